package gsae.data;

import gsae.io.DataException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Turns the paths a user gives into shards: a directory contributes every {@code NAME.act.npy} +
 * {@code NAME.grad.npy} pair and every {@code *.safetensors} inside it, sorted by file name; a file
 * is taken as it is. Every shard is opened (headers validated) before any is read.
 */
final class ShardFiles {

    static final String ACT = ".act.npy", GRAD = ".grad.npy", SAFETENSORS = ".safetensors";

    private ShardFiles() {}

    /** Opens every shard under {@code paths}, in order; on any error closes what was opened and rethrows. */
    static List<Shard> open(List<Path> paths) {
        if (paths.isEmpty()) throw new IllegalArgumentException("no data paths given");
        Set<Path> files = new LinkedHashSet<>();
        for (Path p : paths) files.addAll(shardFiles(p));
        List<Shard> shards = new ArrayList<>();
        try {
            for (Path f : files) shards.add(f.toString().endsWith(ACT) ? Shard.npyPair(f, gradOf(f)) : Shard.safetensors(f));
            return shards;
        } catch (RuntimeException e) {
            shards.forEach(Shard::close);
            throw e;
        }
    }

    /** The shard files (a pair's .act.npy stands for the pair) one user path contributes. */
    private static List<Path> shardFiles(Path p) {
        if (Files.isDirectory(p)) return inDirectory(p);
        if (!Files.exists(p)) throw new DataException(p, "no such file or directory");
        String name = p.getFileName().toString();
        if (name.endsWith(SAFETENSORS)) return List.of(p);
        if (name.endsWith(ACT)) return List.of(withPartner(p, gradOf(p)));
        if (name.endsWith(GRAD)) {
            withPartner(p, actOf(p));
            return List.of(actOf(p));
        }
        throw new DataException(p, "not a shard: expected NAME.act.npy with NAME.grad.npy, or *.safetensors");
    }

    private static List<Path> inDirectory(Path dir) {
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.filter(Files::isRegularFile).sorted(Comparator.comparing(f -> f.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        List<Path> out = new ArrayList<>();
        for (Path f : entries) {
            String name = f.getFileName().toString();
            if (name.endsWith(SAFETENSORS)) out.add(f);
            else if (name.endsWith(ACT)) out.add(withPartner(f, gradOf(f)));
            else if (name.endsWith(GRAD)) withPartner(f, actOf(f));
        }
        if (out.isEmpty()) throw new DataException(dir, "holds no shards (expected NAME.act.npy + NAME.grad.npy pairs or *.safetensors)");
        return out;
    }

    /** Returns {@code file} after checking that its partner exists. */
    private static Path withPartner(Path file, Path partner) {
        if (!Files.isRegularFile(partner)) throw new DataException(file, "has no matching " + partner.getFileName() + " beside it");
        return file;
    }

    static Path gradOf(Path act) {
        String name = act.getFileName().toString();
        return act.resolveSibling(name.substring(0, name.length() - ACT.length()) + GRAD);
    }

    private static Path actOf(Path grad) {
        String name = grad.getFileName().toString();
        return grad.resolveSibling(name.substring(0, name.length() - GRAD.length()) + ACT);
    }
}
