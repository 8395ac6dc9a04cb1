package dev.moescope.store.arrow;

import dev.moescope.core.provenance.Hashing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A file channel that hashes (SHA-256) and counts everything written through it, so a shard's checksums cost no
 * second read. {@link #close()} forces the bytes to disk before closing.
 */
public final class ChecksummedChannel implements WritableByteChannel {

    private final FileChannel file;
    private final MessageDigest digest = Hashing.sha256();
    private long bytes;

    public ChecksummedChannel(Path path) throws IOException {
        this.file = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ByteBuffer view = src.duplicate();
        int n = file.write(src);
        view.limit(view.position() + n);
        digest.update(view);
        bytes += n;
        return n;
    }

    public long bytes() {
        return bytes;
    }

    /** Hex SHA-256 of what was written; call once, after the last write. */
    public String sha256() {
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public boolean isOpen() {
        return file.isOpen();
    }

    @Override
    public void close() throws IOException {
        if (file.isOpen()) {
            try {
                file.force(true);
            } finally {
                file.close();
            }
        }
    }
}
