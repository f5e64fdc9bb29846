package gsae.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C entry points of one emulated-device library (the ABI at the end of emulator/launch.cpp and memory.cpp), bound through FFM.
 * A file is loaded once per process and never unloaded; several files (the planted-bug copies) may
 * be loaded side by side, each with its own state.
 */
record EmulatorLibrary(Path path, MethodHandle error, MethodHandle configure, MethodHandle malloc, MethodHandle free,
                       MethodHandle checkRange, MethodHandle kernel, MethodHandle hasFamily, MethodHandle launch) {

    static final String FILE = "libgsae_emu.so";
    private static final int ABI_VERSION = 2;
    private static final Map<Path, EmulatorLibrary> LOADED = new HashMap<>();

    /** {@code path}, loaded and bound (once). */
    static synchronized EmulatorLibrary load(Path path) {
        return LOADED.computeIfAbsent(path.toAbsolutePath().normalize(), EmulatorLibrary::bind);
    }

    /** -Dgsae.cuda.emulator, else emulator/build/libgsae_emu.so beside the jar's checkout or the working directory; null when none exists. */
    static Path find() {
        String set = System.getProperty("gsae.cuda.emulator");
        if (set != null) return Files.isRegularFile(Path.of(set)) ? Path.of(set) : null;
        for (Path dir : candidates())
            if (Files.isRegularFile(dir.resolve(FILE))) return dir.resolve(FILE);
        return null;
    }

    /** Why {@link #find} found nothing, in one line. */
    static String missing() {
        return "the emulated CUDA device is not built: no " + FILE + " in " + candidates() + " (run make emulator; it needs g++)";
    }

    private static List<Path> candidates() {
        String set = System.getProperty("gsae.cuda.emulator");
        if (set != null) return List.of(Path.of(set).toAbsolutePath().getParent());
        List<Path> roots = new ArrayList<>();
        try {
            Path code = Path.of(EmulatorLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            for (Path p = code.getParent(); p != null && roots.size() < 4; p = p.getParent()) roots.add(p);
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (an unusual class loader): the working directory still counts
        }
        Path cwd = Path.of("").toAbsolutePath();
        roots.add(cwd);
        if (cwd.getParent() != null) roots.add(cwd.getParent());
        List<Path> dirs = new ArrayList<>();
        for (Path root : roots) {
            Path dir = root.resolve("emulator").resolve("build");
            if (!dirs.contains(dir)) dirs.add(dir);
        }
        return dirs;
    }

    @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
    private static EmulatorLibrary bind(Path path) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
        Linker linker = Linker.nativeLinker();
        java.util.function.BiFunction<String, FunctionDescriptor, MethodHandle> bind = (name, fd) -> linker.downcallHandle(
                lookup.find(name).orElseThrow(() -> new IllegalStateException(path + " has no symbol " + name)), fd);
        try {
            int version = (int) bind.apply("gsae_emu_version", FunctionDescriptor.of(JAVA_INT)).invokeExact();
            if (version != ABI_VERSION)
                throw new IllegalStateException(path + " speaks emulator ABI " + version + ", this jar " + ABI_VERSION + ": rebuild both (make build)");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("gsae_emu_version: " + t, t);
        }
        return new EmulatorLibrary(path,
                bind.apply("gsae_emu_error", FunctionDescriptor.of(ADDRESS)),
                bind.apply("gsae_emu_configure", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT)),
                bind.apply("gsae_emu_malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS)),
                bind.apply("gsae_emu_free", FunctionDescriptor.of(JAVA_INT, JAVA_LONG)),
                bind.apply("gsae_emu_check_range", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG)),
                bind.apply("gsae_emu_kernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)),
                bind.apply("gsae_emu_has_family", FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                bind.apply("gsae_emu_launch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS)));
    }
}
