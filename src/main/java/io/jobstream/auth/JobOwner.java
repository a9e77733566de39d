package io.jobstream.auth;

/**
 * Who owns an existing job, as the write rule needs it.
 *
 * @param ownerId        the owning user, or null for a job no user owns (created by a trusted writer, or its owner
 *                       was deleted): admin-only
 * @param ownerSuperuser whether that user is a superuser now
 */
public record JobOwner(Long ownerId, boolean ownerSuperuser) {}
