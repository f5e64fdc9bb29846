package gsae.cuda;

import java.util.HashMap;
import java.util.Map;

/**
 * Named device buffers reused across calls and grown when a call needs more, so that a training
 * step allocates nothing once its shapes have been seen. Closing frees them all.
 */
final class Scratch implements AutoCloseable {

    private final Driver driver;
    private final Map<String, DeviceBuffer> buffers = new HashMap<>();

    Scratch(Driver driver) {
        this.driver = driver;
    }

    /** The buffer called {@code name}, at least {@code bytes} long; its contents are undefined. */
    DeviceBuffer get(String name, long bytes) {
        DeviceBuffer have = buffers.get(name);
        if (have != null && have.bytes() >= bytes) return have;
        if (have != null) have.close();
        DeviceBuffer fresh = DeviceBuffer.allocate(driver, bytes, name);
        buffers.put(name, fresh);
        return fresh;
    }

    DeviceBuffer floats(String name, long count) {
        return get(name, 4 * count);
    }

    DeviceBuffer ints(String name, long count) {
        return get(name, 4 * count);
    }

    DeviceBuffer doubles(String name, long count) {
        return get(name, 8 * count);
    }

    @Override
    public void close() {
        buffers.values().forEach(DeviceBuffer::close);
        buffers.clear();
    }
}
