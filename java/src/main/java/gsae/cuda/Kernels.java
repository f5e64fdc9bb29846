package gsae.cuda;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The compiled kernel families, one per file under kernels/, loaded into a driver and looked up by name once. */
final class Kernels implements AutoCloseable {

    /** One fatbin per file under kernels/. */
    static final List<String> FAMILIES = List.of("encode_select", "sparse_decode", "sparse_backward", "update", "dense");

    private final Driver driver;
    private final Map<String, Kernel> kernels = new HashMap<>();

    Kernels(Driver driver) {
        this.driver = driver;
        try {
            for (String family : FAMILIES) driver.loadModule(family);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    static String resource(String family) {
        return "gsae/kernels/" + family + ".fatbin";
    }

    /** True when every family's fatbin is packed in the jar (kernels were built with nvcc). */
    static boolean packaged() {
        return FAMILIES.stream().allMatch(f -> Kernels.class.getClassLoader().getResource(resource(f)) != null);
    }

    /** The kernel {@code name} of {@code family}, looked up once. */
    Kernel get(String family, String name) {
        return kernels.computeIfAbsent(family + "/" + name, key -> new Kernel(driver, driver.launcher(family, name), name));
    }

    @Override
    public void close() {
        driver.unloadModules();
        kernels.clear();
    }
}
