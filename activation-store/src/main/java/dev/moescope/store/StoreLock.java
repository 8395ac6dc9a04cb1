package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one-writer-at-a-time lock of a store: an OS file lock on {@code .writer.lock}, released by the OS when the
 * process dies, so a crashed writer never leaves the store locked.
 */
final class StoreLock implements AutoCloseable {

    static final String FILE_NAME = ".writer.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private StoreLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static StoreLock acquire(Path storeDir) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(storeDir.resolve(FILE_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                throw MoescopeException.badInput(storeDir, "another process is writing this store");
            }
            return new StoreLock(ch, l);
        } catch (IOException | OverlappingFileLockException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing was written through it
                }
            }
            throw MoescopeException.badInput(storeDir, "another writer holds this store (" + e.getMessage() + ")");
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // the lock goes with the channel anyway
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }
}
