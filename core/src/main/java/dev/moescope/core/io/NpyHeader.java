package dev.moescope.core.io;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a NumPy {@code .npy} file (format versions 1.0 to 3.0): the magic {@code \x93NUMPY}, a version, the
 * header length, then a Python dict literal with {@code descr}, {@code fortran_order} and {@code shape}. The data
 * starts at {@link #dataOffset()}. One reader and one writer, shared by every module that reads or writes arrays.
 *
 * @param descr        the dtype, e.g. {@code <f4}
 * @param fortranOrder whether the data is column-major
 * @param shape        the array's shape (empty for a scalar)
 * @param dataOffset   the byte offset of the first data byte
 */
public record NpyHeader(String descr, boolean fortranOrder, long[] shape, long dataOffset) {

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Number of elements the shape holds. */
    public long elements() {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    /** Parses the header at the start of {@code bytes}; {@code where} names the file in error messages. */
    public static NpyHeader parse(ByteBuffer bytes, String where) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = b.position();
        if (b.remaining() < 10 || (b.get(p) & 0xff) != 0x93 || !"NUMPY".equals(ascii(b, p + 1, 5))) {
            throw MoescopeException.badInput(where + ": not a .npy file (bad magic)");
        }
        int major = b.get(p + 6);
        int prefix;
        long headerLength;
        if (major == 1) {
            prefix = 10;
            headerLength = Short.toUnsignedInt(b.getShort(p + 8));
        } else if ((major == 2 || major == 3) && b.remaining() >= 12) {
            prefix = 12;
            headerLength = Integer.toUnsignedLong(b.getInt(p + 8));
        } else {
            throw MoescopeException.badInput(where + ": unsupported .npy version " + major);
        }
        if (b.remaining() < prefix + headerLength) {
            throw MoescopeException.badInput(where + ": .npy header is truncated");
        }
        String dict = new String(bytesAt(b, p + prefix, (int) headerLength), StandardCharsets.ISO_8859_1);
        String dims = group(SHAPE, dict, where, "shape").trim();
        long[] shape;
        try {
            shape = dims.isEmpty() ? new long[0] : Arrays.stream(dims.split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw MoescopeException.badInput(where + ": .npy shape is not a tuple of integers: (" + dims + ")");
        }
        return new NpyHeader(group(DESCR, dict, where, "descr"), "True".equals(group(ORDER, dict, where, "fortran_order")),
                shape, prefix + headerLength);
    }

    /** Reads the header at the start of an open file. */
    public static NpyHeader read(FileChannel channel, Path file) {
        try {
            ByteBuffer head = ByteBuffer.allocate(12);
            channel.read(head, 0);
            head.flip();
            long length = head.remaining() >= 10 && head.get(6) == 1
                    ? 10 + Short.toUnsignedInt(head.order(ByteOrder.LITTLE_ENDIAN).getShort(8))
                    : head.remaining() >= 12 ? 12 + Integer.toUnsignedLong(head.order(ByteOrder.LITTLE_ENDIAN).getInt(8)) : 12;
            ByteBuffer all = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
            channel.read(all, 0);
            all.flip();
            return parse(all, file.toString());
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A format-1.0 header for a C-order array of {@code descr}, padded so the data starts 64-byte aligned. */
    public static byte[] encode(String descr, long... shape) {
        String dims = shape.length == 1 ? shape[0] + ","
                : String.join(", ", Arrays.stream(shape).mapToObj(Long::toString).toList());
        StringBuilder dict = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims
                + "), }");
        int padded = (10 + dict.length() + 1 + 63) / 64 * 64;
        while (10 + dict.length() + 1 < padded) {
            dict.append(' ');
        }
        dict.append('\n');
        ByteBuffer b = ByteBuffer.allocate(10 + dict.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) dict.length());
        b.put(dict.toString().getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    private static String group(Pattern p, String dict, String where, String key) {
        Matcher m = p.matcher(dict);
        if (!m.find()) {
            throw MoescopeException.badInput(where + ": .npy header lacks '" + key + "'");
        }
        return m.group(1);
    }

    private static String ascii(ByteBuffer b, int at, int n) {
        return new String(bytesAt(b, at, n), StandardCharsets.US_ASCII);
    }

    private static byte[] bytesAt(ByteBuffer b, int at, int n) {
        byte[] out = new byte[n];
        b.get(at, out);
        return out;
    }
}
