package gsae.comm;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the communication libraries (MPI, NCCL), which stay loaded for the life of the process: neither can be unloaded. */
final class NativeLibrary {

    private NativeLibrary() {}

    /** The library, or null when {@code name} (a soname, or a path holding a '/') does not load. */
    @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
    static SymbolLookup open(String name) {
        try {
            return name.contains("/") ? Files.isRegularFile(Path.of(name)) ? SymbolLookup.libraryLookup(Path.of(name), Arena.global()) : null
                    : SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
