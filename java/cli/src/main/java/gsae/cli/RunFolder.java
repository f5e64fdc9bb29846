package gsae.cli;

import gsae.api.DataRun;

import java.nio.file.Files;
import java.nio.file.Path;

/** The folder {@code train --out} made, or its {@code checkpoint/} inside: either names the checkpoint. */
final class RunFolder {

    private RunFolder() {}

    /** {@code path/checkpoint} when {@code path} is a run folder holding one (or its {@code .old} twin), else {@code path}. */
    static Path checkpoint(Path path) {
        Path inside = path.resolve(DataRun.CHECKPOINT);
        boolean isRun = !Files.exists(path.resolve("checkpoint.json"))
                && (Files.isDirectory(inside) || Files.isDirectory(path.resolve(DataRun.CHECKPOINT + ".old")));
        return isRun ? inside : path;
    }
}
