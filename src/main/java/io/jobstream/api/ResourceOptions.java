package io.jobstream.api;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.Requests;
import io.jobstream.event.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code OPTIONS} on the resources jobstream has (jobs, users, teams), in the shape of AWX's metadata: the fields of
 * each action ({@code actions.GET} for reading and filtering, {@code actions.POST} for creating, only when the caller
 * may), and an {@code Allow} header on detail paths. awxkit's CLI builds every command from these: {@code list} and its
 * filter flags from the GET fields marked {@code filterable}, {@code create} and {@code modify} from the POST fields,
 * {@code modify}/{@code delete} from a detail path's {@code Allow} (it asks {@code OPTIONS /api/v2/<resource>/1/},
 * whether or not object 1 exists; the answer is the same for every id, so it tells nothing about objects).
 *
 * <p>Static data: only what this node serves and filters on is described (a field marked filterable here is one
 * {@link JobQuery} or the users/teams lists accept). Behind the {@code AuthFilter} as {@link Access#USER}, as AWX
 * requires a login for OPTIONS. Thread-safe, stateless.
 */
public final class ResourceOptions {
    private final boolean launchAdminsOnly;

    /** @param launchAdminsOnly jobs.launch-by admins: then only admins see the jobs list's POST (launch) fields */
    public ResourceOptions(boolean launchAdminsOnly) {
        this.launchAdminsOnly = launchAdminsOnly;
    }

    /**
     * AWX resources that hold object roles and that jobstream does not have. awxkit's CLI asks OPTIONS of each of them
     * (for their {@code object_roles}, to offer {@code awx users|teams grant --role}) before it runs any
     * {@code users} or {@code teams} command, and fails when one answers 404. They answer that there is nothing to
     * grant: no actions, no roles. Their GET stays AWX's 404 for a missing resource.
     */
    private static final List<String> ROLE_HOLDERS = List.of(
            "organizations",
            "projects",
            "inventories",
            "credentials",
            "job_templates",
            "workflow_job_templates",
            "instance_groups");

    public void register(RoutesConfig routes) {
        for (String resource : ROLE_HOLDERS) {
            routes.options("/api/v2/" + resource + "/", ResourceOptions::nothingToGrant, Access.USER);
        }
        routes.options(
                "/api/v2/jobs/",
                ctx -> list(ctx, "Job List", jobFields(), launchAdminsOnly ? null : launch(), true),
                Access.USER);
        routes.options("/api/v2/jobs/{id}/", ctx -> detail(ctx, "Job Detail", jobFields(), null, false), Access.USER);
        routes.options("/api/v2/users/", ctx -> list(ctx, "User List", userFields(), userCreate(), false), Access.USER);
        routes.options(
                "/api/v2/users/{id}/",
                ctx -> detail(ctx, "User Detail", userFields(), userCreate(), true),
                Access.USER);
        routes.options("/api/v2/teams/", ctx -> list(ctx, "Team List", teamFields(), teamCreate(), false), Access.USER);
        routes.options(
                "/api/v2/teams/{id}/",
                ctx -> detail(ctx, "Team Detail", teamFields(), teamCreate(), false),
                Access.USER);
    }

    /**
     * A list's metadata, the create fields ({@code post}; null: no create at all) shown to admins, and to everyone when
     * {@code everyoneCreates} (any user may launch a job, unless jobs.launch-by is admins).
     */
    private static void list(
            Context ctx, String name, Map<String, Object> get, Map<String, Object> post, boolean everyoneCreates) {
        boolean admin = Requests.principal(ctx).superuser();
        Map<String, Object> actions = new LinkedHashMap<>();
        actions.put("GET", get);
        boolean mayPost = post != null && (admin || everyoneCreates);
        if (mayPost) actions.put("POST", post);
        ctx.header("Allow", mayPost ? "GET, POST, HEAD, OPTIONS" : "GET, HEAD, OPTIONS");
        answer(ctx, name, actions);
    }

    /**
     * A detail path's metadata. Users: admins may change and delete anyone, a user may change themselves (their
     * password); teams: admins change and delete. {@code selfEditable}: whether non-admins may PUT/PATCH some objects.
     */
    private static void detail(
            Context ctx, String name, Map<String, Object> get, Map<String, Object> put, boolean selfEditable) {
        boolean admin = Requests.principal(ctx).superuser();
        Map<String, Object> actions = new LinkedHashMap<>();
        actions.put("GET", get);
        String allow = "GET, HEAD, OPTIONS";
        if (put != null && admin) allow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
        else if (put != null && selfEditable) allow = "GET, PUT, PATCH, HEAD, OPTIONS";
        if (!allow.equals("GET, HEAD, OPTIONS")) actions.put("PUT", put);
        ctx.header("Allow", allow);
        answer(ctx, name, actions);
    }

    private static void nothingToGrant(Context ctx) {
        ctx.header("Allow", "OPTIONS");
        answer(ctx, "Not served by jobstream", Map.of());
    }

    private static void answer(Context ctx, String name, Map<String, Object> actions) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("description", "");
        body.put("renders", List.of("application/json"));
        body.put("parses", List.of("application/json", "application/x-www-form-urlencoded", "multipart/form-data"));
        body.put("actions", actions);
        body.put("object_roles", List.of()); // jobstream's sharing is by team (README "Users and access"), not roles
        body.put("max_page_size", QueryParams.MAX_PAGE_SIZE);
        try {
            ctx.status(200).contentType("application/json").result(Json.MAPPER.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e); // maps of strings: cannot happen
        }
    }

    /** The fields every AWX object starts with. */
    private static Map<String, Object> common(String type) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", field("integer", "ID", "Database ID for this " + type + ".", true));
        f.put("type", field("string", "Type", "Data type for this " + type + ".", false));
        f.put("url", field("string", "Url", "URL for this " + type + ".", false));
        f.put("related", field("object", "Related", "Data structure with URLs of related resources.", false));
        f.put(
                "summary_fields",
                field(
                        "object",
                        "Summary fields",
                        "Data structure with name/description for related resources.",
                        false));
        f.put("created", field("datetime", "Created", "Timestamp when this " + type + " was created.", false));
        return f;
    }

    private static Map<String, Object> jobFields() {
        Map<String, Object> f = common("job");
        f.put("modified", field("datetime", "Modified", "Timestamp when this job was last modified.", false));
        f.put("name", field("string", "Name", "", true));
        f.put("playbook", field("string", "Playbook", "The playbook run, relative to --playbook-dir.", true));
        Map<String, Object> status = field("choice", "Status", "", true);
        status.put(
                "choices",
                JobQuery.STATUSES.stream().sorted().map(s -> List.of(s, s)).toList());
        f.put("status", status);
        f.put("failed", field("boolean", "Failed", "", true));
        f.put("started", field("datetime", "Started", "The date and time the job was queued for starting.", false));
        f.put("finished", field("datetime", "Finished", "The date and time the job finished execution.", false));
        f.put("elapsed", field("decimal", "Elapsed", "Elapsed time in seconds that the job ran.", false));
        f.put("job_explanation", field("string", "Job explanation", "", false));
        f.put("execution_node", field("string", "Execution node", "The jobstream node that runs the job.", false));
        f.put("emitted_events", field("integer", "Emitted events", "", false));
        f.put("event_processing_finished", field("boolean", "Event processing finished", "", false));
        f.put("host_status_counts", field("json", "Host status counts", "", false));
        return f;
    }

    /** POST /api/v2/jobs/: a launch (README "Running playbooks"), which awx jobs create sends. */
    private static Map<String, Object> launch() {
        Map<String, Object> f = new LinkedHashMap<>();
        Map<String, Object> playbook = field("string", "Playbook", "A playbook under --playbook-dir.", true);
        playbook.put("required", true);
        f.put("playbook", playbook);
        f.put("inventory", input("string", "Inventory", "An inventory file under --playbook-dir."));
        f.put("extra_vars", input("json", "Extra vars", "Variables for the playbook (data, never templated)."));
        f.put("limit", input("string", "Limit", "Hosts to run on (no @file)."));
        f.put("name", input("string", "Name", ""));
        Map<String, Object> verbosity = input("choice", "Verbosity", "");
        verbosity.put(
                "choices",
                List.of(
                        List.of(0, "0 (Normal)"),
                        List.of(1, "1 (Verbose)"),
                        List.of(2, "2 (More Verbose)"),
                        List.of(3, "3 (Debug)"),
                        List.of(4, "4 (Connection Debug)"),
                        List.of(5, "5 (WinRM Debug)")));
        f.put("verbosity", verbosity);
        f.put("team", input("id", "Team", "Share the job with this team (one you are in)."));
        return f;
    }

    private static Map<String, Object> userFields() {
        Map<String, Object> f = common("user");
        f.put("username", field("string", "Username", "Letters, digits and @/./+/-/_ only.", true));
        for (String name : List.of("first_name", "last_name", "email", "ldap_dn", "external_account"))
            f.put(name, field("string", name, "Not kept by jobstream (always empty).", false));
        f.put("is_superuser", field("boolean", "Superuser status", "", true));
        f.put("is_system_auditor", field("boolean", "Is system auditor", "Not kept by jobstream.", false));
        f.put("last_login", field("datetime", "Last login", "", false));
        return f;
    }

    private static Map<String, Object> userCreate() {
        Map<String, Object> f = new LinkedHashMap<>();
        Map<String, Object> username = input("string", "Username", "Letters, digits and @/./+/-/_ only.");
        username.put("required", true);
        username.put("max_length", 150);
        f.put("username", username);
        f.put("password", input("string", "Password", "Field used to change the password."));
        f.put("is_superuser", input("boolean", "Superuser status", "Designates that this user has all permissions."));
        return f;
    }

    private static Map<String, Object> teamFields() {
        Map<String, Object> f = common("team");
        f.put("name", field("string", "Name", "", true));
        f.put("description", field("string", "Description", "Not kept by jobstream (always empty).", false));
        f.put("organization", field("id", "Organization", "jobstream has no organizations (always null).", false));
        return f;
    }

    private static Map<String, Object> teamCreate() {
        Map<String, Object> name = input("string", "Name", "");
        name.put("required", true);
        name.put("max_length", 512);
        return new LinkedHashMap<>(Map.of("name", name));
    }

    private static Map<String, Object> field(String type, String label, String help, boolean filterable) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", type);
        f.put("label", label);
        f.put("help_text", help);
        f.put("filterable", filterable);
        return f;
    }

    private static Map<String, Object> input(String type, String label, String help) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", type);
        f.put("required", false);
        f.put("label", label);
        f.put("help_text", help);
        return f;
    }
}
