package gsae.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The compiled kernel families, loaded from the jar's {@code gsae/kernels/<family>.fatbin} with cuModuleLoadData. */
final class Kernels implements AutoCloseable {

    /** One fatbin per file under kernels/. */
    static final List<String> FAMILIES = List.of("encode_select", "sparse_decode", "sparse_backward", "update", "dense");

    private final CudaContext ctx;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, Kernel> kernels = new HashMap<>();

    Kernels(CudaContext ctx) {
        this.ctx = ctx;
        try {
            for (String family : FAMILIES) {
                CUmodule module = new CUmodule();
                CudaException.check(JCudaDriver.cuModuleLoadData(module, fatbin(family)),
                        "cuModuleLoadData(" + resource(family) + ") on " + ctx.describe());
                modules.put(family, module);
            }
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
        return kernels.computeIfAbsent(family + "/" + name, key -> {
            CUmodule module = modules.get(family);
            if (module == null) throw new IllegalArgumentException("no kernel family " + family);
            CUfunction f = new CUfunction();
            CudaException.check(JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + family + "/" + name + ")");
            return new Kernel(ctx, f, name);
        });
    }

    private static byte[] fatbin(String family) {
        try (InputStream in = Kernels.class.getClassLoader().getResourceAsStream(resource(family))) {
            if (in == null) throw new IllegalStateException(resource(family) + " is not in the jar: run make kernels (needs nvcc), then rebuild");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(resource(family) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (Map.Entry<String, CUmodule> e : modules.entrySet())
            CudaException.check(JCudaDriver.cuModuleUnload(e.getValue()), "cuModuleUnload(" + e.getKey() + ")");
        modules.clear();
        kernels.clear();
    }
}
