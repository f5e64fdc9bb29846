package gsae.parallel;

import gsae.comm.LocalRanks;
import gsae.config.SaeConfig;
import gsae.cpu.FastOps;
import gsae.cpu.ReferenceOps;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.HostTrainingStep;
import gsae.ops.LatentShard;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.ops.StartState;
import gsae.ops.StepMetrics;
import gsae.ops.TrainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static gsae.parallel.ShardedProblem.assertParamsClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * P ranks (threads through {@link LocalRanks}) training with sharded latents against one process
 * on the whole SAE and the same batches: M not divisible by P, shares smaller than k (M = 7, P = 3:
 * two latents each, or one), β = 0 and β > 0, and dead latents appearing after the first step
 * (dead_tokens = N) so that AuxK runs.
 */
class LatentShardedStepTest {

    private static final int D = 23, N = 40, STEPS = 4;
    private static final float LR = 1e-3f;

    static Stream<Arguments> cases() {
        Supplier<Ops> reference = ReferenceOps::new, fast = () -> new FastOps(1);
        return Stream.of(
                Arguments.of(2, 51, 0f, reference, true),
                Arguments.of(3, 50, 1f, reference, true),
                Arguments.of(2, 77, 1f, fast, true),
                Arguments.of(3, 77, 0f, fast, true),
                Arguments.of(3, 98, 2f, fast, true),
                // tiny shares: every latent fires within 40 tokens, so nothing dies
                Arguments.of(3, 7, 1f, reference, false),
                Arguments.of(4, 6, 0.5f, fast, false));
    }

    private static SaeConfig config(int m, float beta) {
        return new SaeConfig(D, m, 4, beta, 6, SaeConfig.DEFAULT_AUX_ALPHA, N);
    }

    /** Per-step metrics and the final state of one run per rank (one process: a list of one). */
    record Run(List<StepMetrics> metrics, TrainState state) {}

    @ParameterizedTest(name = "P={0} M={1} β={2}")
    @MethodSource("cases")
    void shardedTrainingEqualsOneProcess(int ranks, int m, float beta, Supplier<Ops> ops, boolean auxRuns) {
        SaeConfig cfg = config(m, beta);
        TrainState init = TrainState.fresh(ShardedProblem.params(D, m, 11));
        Run single = single(cfg, ops.get(), init, 0);
        List<Run> sharded = LocalRanks.run(ranks, c -> {
            LatentShardedStep step = LatentShardedStep.start(cfg, ops.get(), c, new StartState.Held(init));
            return train(step, 0);
        });
        double eps = STEPS * ShardedProblem.stepEps(cfg, N);
        boolean sawAux = ShardedProblem.assertSameMetrics(single.metrics(), sharded.stream().map(Run::metrics).toList(), eps);
        assertEquals(auxRuns, sawAux, "AuxK ran");
        ShardedProblem.assertShardsMatch(single.state(), sharded.stream().map(Run::state).toList(), eps, LR * Math.sqrt(D));
    }

    /** Trains STEPS steps from batch seed {@code first} on. */
    static Run train(gsae.ops.TrainingStep step, int first) {
        return train(step, first, true);
    }

    static Run train(gsae.ops.TrainingStep step, int first, boolean withGradients) {
        List<StepMetrics> metrics = new ArrayList<>();
        for (int s = first; s < first + STEPS; s++) metrics.add(step.step(ShardedProblem.batch(N, D, withGradients, 100 + s), LR));
        return new Run(metrics, step.snapshot());
    }

    /** Batches without gradients: β falls back to 0 on every rank as in one process (SPEC §2). */
    @Test
    void withoutGradientsBetaFallsBackToZero() {
        SaeConfig cfg = config(51, 2f);
        TrainState init = TrainState.fresh(ShardedProblem.params(D, 51, 12));
        Run single = train(new HostTrainingStep(cfg, new FastOps(1), init), 0, false);
        List<Run> sharded = LocalRanks.run(2, c -> train(LatentShardedStep.start(cfg, new FastOps(1), c, new StartState.Held(init)), 0, false));
        TrainState whole = ShardedProblem.gather(sharded.stream().map(Run::state).toList());
        assertArrayEquals(single.state().sinceFired(), whole.sinceFired(), "the selections of every step");
        assertParamsClose("parameters", single.state().params(), whole.params(), STEPS * ShardedProblem.stepEps(cfg, N), LR * Math.sqrt(D));
    }

    static Run single(SaeConfig cfg, Ops ops, TrainState init, int first) {
        return train(new HostTrainingStep(cfg, ops, init), first);
    }

    /**
     * One encode-select: the ranks' merged selections equal the reference's over all M latents,
     * top and AuxK, indices as sets per token (both ascending) and activations where owned.
     */
    @ParameterizedTest(name = "P={0}")
    @MethodSource("rankCounts")
    void mergedSelectionEqualsTheWholeSelection(int ranks) {
        int m = 61, k = 5, auxK = 7;
        Params p = ShardedProblem.params(D, m, 21);
        Batch b = ShardedProblem.batch(N, D, true, 22);
        boolean[] dead = new boolean[m];
        for (int i = 0; i < m; i += 3) dead[i] = true;
        Encoded want = new ReferenceOps().encodeSelect(p, b, 1.5f, k, dead, auxK);
        List<GlobalTopK.Merged[]> got = LocalRanks.run(ranks, c -> {
            LatentShard shard = LatentShard.of(c.rank(), c.size(), m);
            Params own = p.rows(shard.first(), shard.end());
            boolean[] ownDead = Arrays.copyOfRange(dead, shard.first(), shard.end());
            Encoded local = new ReferenceOps().encodeSelect(own, b, 1.5f, Math.min(k, shard.count()), ownDead, auxK);
            return new GlobalTopK.Merged[]{
                    GlobalTopK.merge(c, shard, N, k, local.top(), CandidateScores.of(own, b, 1.5f, local.top())),
                    GlobalTopK.merge(c, shard, N, auxK, local.aux(), local.aux() == null ? null : CandidateScores.of(own, b, 1.5f, local.aux()))};
        });
        for (int r = 0; r < ranks; r++) {
            LatentShard shard = LatentShard.of(r, ranks, m);
            for (int which = 0; which < 2; which++) {
                var sel = which == 0 ? want.top() : want.aux();
                GlobalTopK.Merged merged = got.get(r)[which];
                assertArrayEquals(sel.indices(), merged.global(), (which == 0 ? "top" : "AuxK") + " indices on rank " + r);
                for (int at = 0; at < sel.indices().length; at++) {
                    int latent = sel.indices()[at];
                    int local = merged.own().latent()[at];
                    assertEquals(shard.owns(latent) ? latent - shard.first() : OwnedPairs.ELSEWHERE, local, "owner of slot " + at);
                    if (shard.owns(latent)) assertEquals(sel.values()[at], merged.own().a()[at], "activation of slot " + at);
                }
            }
        }
    }

    static Stream<Integer> rankCounts() {
        return Stream.of(1, 2, 3, 4);
    }

    /** Equal scores are broken by the lower latent index, across ranks too (SPEC §2). */
    @Test
    void tiesGoToTheLowerIndexAcrossRanks() {
        assertTrue(GlobalTopK.key(1f, 3) > GlobalTopK.key(1f, 40), "equal scores: lower index first");
        assertTrue(GlobalTopK.key(2f, 40) > GlobalTopK.key(1f, 3), "larger score first");
        assertTrue(GlobalTopK.key(-1f, 3) > GlobalTopK.key(-2f, 0), "negative scores by value");
        assertTrue(GlobalTopK.key(0f, 9) > GlobalTopK.key(-0f, 0), "+0 above −0, as Double.compare orders them");
        assertTrue(GlobalTopK.key(-1e30f, 5) > GlobalTopK.key(Float.NEGATIVE_INFINITY, Integer.MAX_VALUE), "a real candidate beats the padding");
        // every latent scores the same: each rank offers its own lowest indices, the merge keeps the lowest overall
        int m = 10, k = 3;
        List<int[]> chosen = LocalRanks.run(3, c -> {
            LatentShard shard = LatentShard.of(c.rank(), c.size(), m);
            int[] idx = {0, 1, 2};
            var offered = new gsae.ops.Selection(1, 3, idx, new float[]{1f, 1f, 1f});
            return GlobalTopK.merge(c, shard, 1, k, offered, new float[]{0.5f, 0.5f, 0.5f}).global();
        });
        for (int[] g : chosen) assertArrayEquals(new int[]{0, 1, 2}, g);
    }
}
