package gsae.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Write-then-rename: a reader sees the old file or the complete new one, never a torn one. */
public final class AtomicFiles {

    /** Body of a write into an open channel. */
    @FunctionalInterface
    public interface Writer {
        void write(FileChannel ch) throws IOException;
    }

    private AtomicFiles() {}

    /** Writes to {@code path.tmp}, forces it to disk, renames it over {@code path}, then syncs the folder. */
    public static void write(Path path, Writer body) {
        Path abs = path.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try {
            Files.createDirectories(abs.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            move(tmp, abs);
            syncDirectory(abs.getParent());
        } catch (IOException | RuntimeException e) { // a source failing mid-write (a damaged checkpoint read in chunks) leaves no .tmp either
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write already failed; that error is the one to report
            }
            if (e instanceof RuntimeException r) throw r;
            throw new UncheckedIOException("cannot write " + path + ": " + e.getMessage(), (IOException) e);
        }
    }

    /** Atomic rename, replacing the target. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** fsync on a directory makes a rename durable on Linux; elsewhere it may not be allowed, which is harmless. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: not every platform lets a folder be opened for sync
        }
    }
}
