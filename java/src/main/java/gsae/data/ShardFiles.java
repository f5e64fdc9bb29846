package gsae.data;

import gsae.io.DataException;
import gsae.io.DataRecord;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

    /**
     * Each shard's fingerprint, in the order {@link #open} reads them: name, size, and SHA-256 of the
     * first and last {@value DataRecord.ShardPrint#SAMPLE} bytes of each file (its header and the data
     * at both ends), so a renamed shard is recognised and a changed one is not taken for it.
     */
    static List<DataRecord.ShardPrint> fingerprints(List<Path> paths) {
        List<DataRecord.ShardPrint> prints = new ArrayList<>();
        Set<Path> files = new LinkedHashSet<>();
        for (Path p : paths) files.addAll(shardFiles(p));
        for (Path f : files) {
            List<Path> parts = f.toString().endsWith(ACT) ? List.of(f, gradOf(f)) : List.of(f);
            MessageDigest sha = sha256();
            long bytes = 0;
            for (Path part : parts) bytes += digest(sha, part);
            prints.add(new DataRecord.ShardPrint(f.getFileName().toString(), bytes, HexFormat.of().formatHex(sha.digest())));
        }
        return prints;
    }

    /** Feeds the ends of {@code file} to {@code sha}; returns the file's size. */
    private static long digest(MessageDigest sha, Path file) {
        int sample = DataRecord.ShardPrint.SAMPLE;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long headEnd = Math.min(size, sample);
            sha.update(readFully(ch, 0, headEnd));
            long tailStart = Math.max(headEnd, size - sample);
            sha.update(readFully(ch, tailStart, size - tailStart));
            return size;
        } catch (IOException e) {
            throw new DataException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long at, long len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) len);
        while (buf.hasRemaining())
            if (ch.read(buf, at + buf.position()) < 0) throw new IOException("file shrank while being read");
        return buf.flip();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
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
