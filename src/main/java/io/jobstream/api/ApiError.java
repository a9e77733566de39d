package io.jobstream.api;

/** A request the API refuses, answered with {@code status} and AWX's body {@code {"detail": detail}}. */
final class ApiError extends RuntimeException {
    final int status;

    private ApiError(int status, String detail) {
        super(detail, null, false, false); // a client mistake: no stack trace worth collecting
        this.status = status;
    }

    static ApiError badRequest(String detail) {
        return new ApiError(400, detail);
    }

    static ApiError notFound() {
        return new ApiError(404, "Not found.");
    }

    static ApiError forbidden() {
        return new ApiError(403, "You do not have permission to perform this action.");
    }

    /** Over a per-user limit (the thrower sets {@code Retry-After}). */
    static ApiError tooMany(String detail) {
        return new ApiError(429, detail);
    }

    /** Django REST framework's answer to a page number past the end or not a number. */
    static ApiError invalidPage() {
        return new ApiError(404, "Invalid page.");
    }
}
