package gsae.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-made .npy files, including malformed ones the writer refuses to produce. */
public final class NpyTestFiles {

    private NpyTestFiles() {}

    /** Writes magic, version, header length, {@code dict} exactly as given, then float32 data. */
    public static void writeRaw(Path f, int version, String dict, float[] data) throws IOException {
        byte[] text = dict.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int lenBytes = version == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lenBytes + text.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        if (version == 1) b.putShort((short) text.length);
        else b.putInt(text.length);
        b.put(text);
        for (float v : data) b.putFloat(v);
        Files.write(f, b.array());
    }
}
