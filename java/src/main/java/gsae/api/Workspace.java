package gsae.api;

import gsae.io.AtomicFiles;
import gsae.io.RunLock;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * An output folder held by one process at a time (an OS file lock, released however the process
 * ends), as {@link DataRun#open} holds its run folder; for callers that write several runs into one
 * folder, like {@code gsae demo}. Close it to release the folder.
 */
public final class Workspace implements AutoCloseable {

    private final RunLock lock;

    private Workspace(RunLock lock) {
        this.lock = lock;
    }

    /** Takes {@code dir} (created if missing), or throws a {@code gsae.config.UserError} naming the process that holds it. */
    public static Workspace lock(Path dir) {
        return new Workspace(RunLock.acquire(dir));
    }

    /** Writes {@code bytes} to {@code file} atomically: readers see the old file or the whole new one, never a part. */
    public static void write(Path file, byte[] bytes) {
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    @Override
    public void close() {
        lock.close();
    }
}
