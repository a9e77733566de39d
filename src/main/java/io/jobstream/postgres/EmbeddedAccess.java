package io.jobstream.postgres;

import io.jobstream.config.PrivateFiles;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Who may connect to the embedded PostgreSQL: nobody without a password. zonky runs {@code initdb -A trust} (any
 * local user connects as superuser, reads every table and runs programs with {@code COPY … TO PROGRAM}) and offers no
 * way to pass initdb options, but it calls a hook after initdb and before the postmaster starts. There, with no server
 * listening anywhere, {@link #lockDown} sets the passwords in single-user mode and only then replaces
 * {@code pg_hba.conf} with SCRAM for every line, sockets included. A data dir made by an older version (trust, no
 * passwords) goes through the same step on its first start with this code, so no postmaster ever runs on trust.
 *
 * <p>Two roles: {@code postgres}, the superuser, used only by zonky to see that the server is up and to stop it; and
 * {@value #ROLE}, which owns the database and everything in it and is the only one the node's pool uses, so that even
 * an SQL injection cannot run programs or read server files (those need superuser or pg_* roles). Each password is
 * random, kept in a 0600 file in the data dir, outside the PostgreSQL directory. Called on the thread that starts
 * the database; stateless between calls.
 */
final class EmbeddedAccess {
    static final String ROLE = "jobstream";
    static final String PASSWORD_FILE = "database-password";
    static final String SUPERUSER_PASSWORD_FILE = "database-superuser-password";
    /** The first line of the pg_hba.conf we write: its presence tells a locked-down data dir from an older one. */
    private static final String HBA_HEADER =
            "# jobstream: every connection needs a password (SCRAM); see docs/OPERATIONS.md";

    private static final String HBA = HBA_HEADER + "\n"
            + "# Written on start whenever it differs; edits are replaced. No replication connections.\n"
            + "local  all  all                scram-sha-256\n"
            + "host   all  all  127.0.0.1/32  scram-sha-256\n"
            + "host   all  all  ::1/128       scram-sha-256\n";

    private final Path dataDir;
    private final String password;
    private final String superuserPassword;
    private final boolean newPasswords;

    private EmbeddedAccess(Path dataDir, String password, String superuserPassword, boolean newPasswords) {
        this.dataDir = dataDir;
        this.password = password;
        this.superuserPassword = superuserPassword;
        this.newPasswords = newPasswords;
    }

    /** Reads the passwords kept in {@code dataDir}, making new ones on first use. */
    static EmbeddedAccess of(Path dataDir) {
        Path file = dataDir.resolve(PASSWORD_FILE);
        Path superFile = dataDir.resolve(SUPERUSER_PASSWORD_FILE);
        boolean fresh = !Files.isRegularFile(file) || !Files.isRegularFile(superFile);
        return new EmbeddedAccess(dataDir, password(file), password(superFile), fresh);
    }

    private static String password(Path file) {
        try {
            if (Files.isRegularFile(file)) {
                String p = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (p.matches("[0-9a-f]{32,}")) return p;
            }
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String p = HexFormat.of().formatHex(random); // hex: nothing to quote in SQL or escape in a URL
            PrivateFiles.writeString(file, p + "\n");
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    String password() {
        return password;
    }

    String superuserPassword() {
        return superuserPassword;
    }

    /**
     * Runs between initdb and the postmaster (zonky's data directory hook). When {@code pgData} is not locked down yet
     * (fresh, made by an older version, or the password files were lost), sets both passwords and hands the database
     * to {@value #ROLE}, then writes pg_hba.conf: in that order, so a crash in between is simply redone next start.
     */
    void lockDown(Path pgData, Path binDir) {
        Path hba = pgData.resolve("pg_hba.conf");
        try {
            if (!newPasswords
                    && Files.isRegularFile(hba)
                    && Files.readString(hba).equals(HBA)) return;
            singleUser(
                    pgData,
                    binDir,
                    List.of(
                            "ALTER ROLE postgres PASSWORD '" + superuserPassword + "'",
                            "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + ROLE + "') THEN"
                                    + " CREATE ROLE " + ROLE + "; END IF; END$$",
                            "ALTER ROLE " + ROLE
                                    + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                                    + " PASSWORD '" + password + "'",
                            "ALTER DATABASE postgres OWNER TO " + ROLE,
                            handOver()));
            PrivateFiles.writeString(hba, HBA);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock down the embedded PostgreSQL in " + pgData, e);
        }
    }

    /**
     * Tables, partitions and sequences that an older version created as {@code postgres} go to {@value #ROLE} (a
     * sequence linked to a table follows its table; ALTER on it afterwards is then a no-op).
     */
    private static String handOver() {
        return "DO $$DECLARE r record; BEGIN FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                + " AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> '" + ROLE + "'::regrole"
                + " ORDER BY c.relkind = 'S' LOOP EXECUTE format('ALTER %s %s OWNER TO " + ROLE + "',"
                + " CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'"
                + " ELSE 'TABLE' END, r.name); END LOOP; END$$";
    }

    /**
     * {@code postgres --single}: no socket, no port, commands on stdin (one a line, so the passwords never show in
     * the process list). As root, inside {@code unshare -U} as zonky runs its own commands (PostgreSQL refuses root).
     */
    private void singleUser(Path pgData, Path binDir, List<String> statements) throws IOException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) command.addAll(List.of("unshare", "-U"));
        command.addAll(List.of(
                binDir.resolve("postgres").toString(),
                "--single",
                "-D",
                pgData.toString(),
                "-c",
                "log_min_error_statement=panic",
                "-c",
                "exit_on_error=on",
                "postgres"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            p.getOutputStream().write((String.join(";\n", statements) + ";\n").getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || output.contains("ERROR:")) {
                p.destroyForcibly();
                throw new IOException("postgres --single failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + "): "
                        + output.replace(password, "********")
                                .replace(superuserPassword, "********")
                                .strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while locking down the embedded PostgreSQL", e);
        }
    }
}
