package dev.moescope.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketPermission;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.Permission;

/**
 * Runs the CLI under a security manager that records, and refuses, every attempt to resolve or connect to a
 * host other than this machine. Every Java network path (sockets, NIO channels, URL connections, DNS) asks for a
 * {@link SocketPermission} first. Used by {@link NoNetworkIT} in a fresh child JVM.
 *
 * <p>Arguments: the log file, then the CLI's arguments; {@code --try-network} instead of CLI arguments makes one
 * deliberate outbound attempt, to prove the guard sees it.
 */
public final class NoNetworkMain {

    /** This machine's own host name: resolving it is local (AWT's font set-up does, for instance), not outbound. */
    private static String self;

    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[0]);
        self = InetAddress.getLocalHost().getHostName(); // before the guard is in place: no recursion
        System.setSecurityManager(new SecurityManager() {
            @Override
            public void checkPermission(Permission p) {
                if (p instanceof SocketPermission sp && outbound(sp)) {
                    record(log, sp);
                    throw new SecurityException("network access attempted: " + sp);
                }
            }

            @Override
            public void checkPermission(Permission p, Object context) {
                checkPermission(p);
            }
        });
        String[] cli = java.util.Arrays.copyOfRange(args, 1, args.length);
        if (cli.length == 1 && cli[0].equals("--try-network")) {
            try {
                new URL("http://example.com/").openStream().close();
            } catch (IOException | SecurityException expected) {
                // the attempt is what counts
            }
            System.exit(0);
        }
        System.exit(Moescope.commandLine().execute(cli));
    }

    private static boolean outbound(SocketPermission p) {
        String actions = p.getActions();
        if (!actions.contains("connect") && !actions.contains("resolve")) {
            return false; // listen/accept on this machine
        }
        String host = p.getName().replaceFirst(":[^:\\]]*$", "").replace("[", "").replace("]", "");
        // Loopback and this machine's own name only (looked up once, before the guard was installed: a lookup
        // from here would ask this security manager for a permission and recurse).
        return !(host.equals("localhost") || host.startsWith("127.") || host.equals("::1")
                || host.equals("0:0:0:0:0:0:0:1") || host.isEmpty() || host.equalsIgnoreCase(self));
    }

    private static synchronized void record(Path log, SocketPermission p) {
        try {
            Files.writeString(log, p.getName() + " " + p.getActions() + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
