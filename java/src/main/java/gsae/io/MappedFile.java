package gsae.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;

/**
 * A whole file mapped read-only into an arena of its own, which the reader keeps open as long as it
 * serves data from the mapping. A missing or unreadable file is a {@link DataException}.
 *
 * @param arena owns the mapping; closing it unmaps the file
 * @param data  the file's bytes
 */
record MappedFile(Arena arena, MemorySegment data) {

    static MappedFile map(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new MappedFile(arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
        } catch (NoSuchFileException e) {
            arena.close();
            throw new DataException(path, "no such file");
        } catch (IOException e) {
            arena.close();
            throw new DataException(path, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Applies a reader to the mapping; when it fails, unmaps the file before passing the failure on. */
    <T> T read(Function<MappedFile, T> reader) {
        try {
            return reader.apply(this);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }
}
