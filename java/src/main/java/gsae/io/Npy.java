package gsae.io;

import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A 2-D NumPy {@code .npy} array ([N, d], little-endian {@code <f4} or {@code <f2}, C order),
 * format versions 1–3, read through a memory mapping that lives as long as this object.
 * Layout: magic {@code \x93NUMPY}, major and minor version bytes, the header length (2 bytes
 * little-endian in version 1, 4 bytes in versions 2 and 3), a Python dict literal (latin-1, UTF-8
 * in version 3) padded with spaces and ended by a newline, then the raw data.
 */
public final class Npy implements AutoCloseable {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");
    private static final Pattern KEY = Pattern.compile("['\"](\\w+)['\"]\\s*:");

    private final Path path;
    private final Arena arena;
    private final HostTensor tensor;

    private Npy(Path path, Arena arena, HostTensor tensor) {
        this.path = path;
        this.arena = arena;
        this.tensor = tensor;
    }

    /** Maps {@code path} and validates its header; any defect is a {@link DataException} naming the file. */
    public static Npy open(Path path) {
        return MappedFile.map(path).read(f -> {
            long size = f.data().byteSize();
            if (size < MAGIC.length + 4) throw new DataException(path, "truncated: " + size + " bytes, shorter than an .npy preamble");
            return new Npy(path, f.arena(), parse(path, f.data()));
        });
    }

    private static HostTensor parse(Path path, MemorySegment file) {
        for (int i = 0; i < MAGIC.length; i++)
            if (file.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) throw new DataException(path, "not an .npy file (wrong magic bytes)");
        int major = file.get(ValueLayout.JAVA_BYTE, 6);
        if (major < 1 || major > 3) throw new DataException(path, "unsupported .npy format version " + major + " (expected 1, 2 or 3)");
        int lenBytes = major == 1 ? 2 : 4;
        long headerLen = major == 1
                ? Short.toUnsignedLong(file.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8))
                : Integer.toUnsignedLong(file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8));
        long dataStart = 8 + lenBytes + headerLen;
        if (dataStart > file.byteSize())
            throw new DataException(path, "truncated: header of " + headerLen + " bytes does not fit a " + file.byteSize() + "-byte file");
        Charset cs = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
        String header = new String(file.asSlice(8 + lenBytes, headerLen).toArray(ValueLayout.JAVA_BYTE), cs);
        refuseRepeatedKeys(path, header);
        Dtype dtype = dtype(path, header);
        if (find(path, FORTRAN, header, "fortran_order").equals("True"))
            throw new DataException(path, "Fortran-order array; only C order is supported (save with np.ascontiguousarray)");
        long[] shape = shape(path, header);
        long need = Math.multiplyExact(HostTensor.numel(shape), dtype.size);
        long have = file.byteSize() - dataStart;
        if (have < need)
            throw new DataException(path, "truncated: shape (" + shape[0] + ", " + shape[1] + ") needs " + need + " data bytes, file has " + have);
        return new HostTensor(dtype, shape, file.asSlice(dataStart, need));
    }

    /** NumPy keeps the last of a key given twice and gsae would read the first: neither is safe to guess, so refuse. */
    private static void refuseRepeatedKeys(Path path, String header) {
        Set<String> seen = new HashSet<>();
        for (Matcher m = KEY.matcher(header); m.find(); )
            if (!seen.add(m.group(1))) throw new DataException(path, "malformed .npy header: key '" + m.group(1) + "' given twice in " + header.strip());
    }

    private static String find(Path path, Pattern p, String header, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new DataException(path, "malformed .npy header: no '" + key + "' in " + header.strip());
        return m.group(1);
    }

    private static Dtype dtype(Path path, String header) {
        String descr = find(path, DESCR, header, "descr");
        return switch (descr) {
            case "<f4" -> Dtype.F32;
            case "<f2" -> Dtype.F16;
            case ">f4", ">f2" -> throw new DataException(path, "big-endian dtype '" + descr + "'; only little-endian '<f4' and '<f2' are supported");
            default -> throw new DataException(path, "unsupported dtype '" + descr + "' (expected '<f4' float32 or '<f2' float16)");
        };
    }

    private static long[] shape(Path path, String header) {
        String body = find(path, SHAPE, header, "shape").strip();
        String[] parts = body.isEmpty() ? new String[0] : body.split("\\s*,\\s*", -1);
        int rank = parts.length > 0 && parts[parts.length - 1].isEmpty() ? parts.length - 1 : parts.length;
        if (rank != 2) throw new DataException(path, "array has rank " + rank + " (shape (" + body + ")); expected 2-D [N, d]");
        long[] shape = new long[2];
        try {
            for (int i = 0; i < 2; i++) shape[i] = Long.parseLong(parts[i].strip());
            if (shape[0] < 0 || shape[1] < 0) throw new NumberFormatException();
            Math.multiplyExact(Math.multiplyExact(shape[0], shape[1]), 4L);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new DataException(path, "malformed .npy header: shape (" + body + ")");
        }
        return shape;
    }

    public Path path() {
        return path;
    }

    /** The mapped array, [N, d]; valid until {@link #close()}. */
    public HostTensor tensor() {
        return tensor;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Writes a 2-D F32 or F16 tensor as a version-1 {@code .npy}, atomically. */
    public static void write(Path path, HostTensor t) {
        write(path, t, 1);
    }

    /** Writes a 2-D F32 or F16 tensor as {@code .npy} format {@code version} (1, 2 or 3), atomically. */
    public static void write(Path path, HostTensor t, int version) {
        if (version < 1 || version > 3) throw new IllegalArgumentException("npy version must be 1, 2 or 3, got " + version);
        String descr = switch (t.dtype()) {
            case F32 -> "<f4";
            case F16 -> "<f2";
            default -> throw new IllegalArgumentException("npy writer supports F32 and F16, got " + t.dtype());
        };
        if (t.shape().length != 2) throw new IllegalArgumentException("npy writer takes 2-D tensors");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + t.shape()[0] + ", " + t.shape()[1] + "), }";
        ByteBuffer head = preamble(dict, version);
        AtomicFiles.write(path, ch -> {
            while (head.hasRemaining()) ch.write(head);
            MemorySegment src = t.data();
            ByteBuffer body = ByteBuffer.allocate((int) Math.min(src.byteSize(), 1 << 20));
            for (long at = 0; at < src.byteSize(); at += body.capacity()) {
                long len = Math.min(body.capacity(), src.byteSize() - at);
                body.clear().limit((int) len);
                MemorySegment.copy(src, at, MemorySegment.ofBuffer(body), 0, len);
                while (body.hasRemaining()) ch.write(body);
            }
        });
    }

    /** Magic, version, length and the dict padded with spaces so the data starts on a 64-byte boundary. */
    private static ByteBuffer preamble(String dict, int version) {
        byte[] text = dict.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int lenBytes = version == 1 ? 2 : 4;
        int fixed = MAGIC.length + 2 + lenBytes;
        int total = (fixed + text.length + 1 + ALIGN - 1) / ALIGN * ALIGN;
        int headerLen = total - fixed;
        if (version == 1 && headerLen > 0xFFFF) throw new IllegalArgumentException("header too long for npy version 1");
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) b.putShort((short) headerLen);
        else b.putInt(headerLen);
        b.put(text);
        while (b.position() < total - 1) b.put((byte) ' ');
        b.put((byte) '\n');
        return b.flip();
    }
}
