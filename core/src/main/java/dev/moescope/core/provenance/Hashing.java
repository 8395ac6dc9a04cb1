package dev.moescope.core.provenance;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Streaming SHA-256 of files and directory trees (never reads a whole file into memory). */
public final class Hashing {

    private Hashing() {
    }

    /** SHA-256 of a file's bytes, or of a directory's sorted {@code relative-path, file-hash} lines. */
    public static InputFile describe(Path path) {
        try {
            if (Files.isDirectory(path)) {
                MessageDigest tree = sha256();
                long total = 0;
                List<Path> files;
                try (Stream<Path> walk = Files.walk(path)) {
                    files = walk.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path f : files) {
                    InputFile one = describe(f);
                    total += one.bytes();
                    tree.update((path.relativize(f) + " " + one.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
                }
                return new InputFile(path.toString(), total, HexFormat.of().formatHex(tree.digest()));
            }
            MessageDigest md = sha256();
            byte[] buf = new byte[1 << 20];
            long n = 0;
            try (InputStream in = Files.newInputStream(path)) {
                for (int r; (r = in.read(buf)) > 0; ) {
                    md.update(buf, 0, r);
                    n += r;
                }
            }
            return new InputFile(path.toString(), n, HexFormat.of().formatHex(md.digest()));
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(path, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(path, "cannot read: " + e.getMessage(), e);
        }
    }

    /** SHA-256 of an in-memory byte array, as lower-case hex. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
