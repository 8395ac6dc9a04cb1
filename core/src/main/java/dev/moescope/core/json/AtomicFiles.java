package dev.moescope.core.json;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replace-by-rename writes: the bytes go to a temporary sibling, are forced to disk, and the sibling is renamed
 * over the target. A crash at any moment leaves either the old file or the new one, never a torn mix.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Writes the content of one file into an open channel (streaming, so it need not fit in memory). */
    @FunctionalInterface
    public interface ChannelWriter {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void writeString(Path file, String text) {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void write(Path file, byte[] bytes) {
        write(file, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Streams {@code body} into a temporary sibling, forces it to disk and renames it over {@code file}. */
    public static void write(Path file, ChannelWriter body) {
        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            Files.createDirectories(target.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                body.writeTo(ch);
                ch.force(true);
            }
            moveAtomically(tmp, target);
            syncDirectory(target.getParent());
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Writes all of {@code buf} (a channel may write less than asked in one call). */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Renames {@code from} to {@code to} in one step (same directory, same file system). */
    public static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Forces a directory's entries (a rename) to disk; a no-op where the platform cannot open directories. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not supported on every file system; the rename itself is still atomic.
        }
    }
}
