package io.inferencefleet.paddle.model.synthetic;

import java.util.SplittableRandom;

/**
 * Deterministic He-initialised weights for synthetic models. Every parameter draws from its own
 * generator seeded by (seed, name), so values do not depend on the order parameters are created.
 *
 * <p>Batch-norm statistics are near-identity but not trivial (mean near 0, variance near 1), and the
 * batch norm ending each residual branch gets a small scale so that, without trained statistics,
 * activations stay O(1) through 16 residual additions and the softmax stays spread out.
 */
public final class SyntheticWeights implements WeightInitializer {
    /** Scale of a residual branch's last batch norm relative to 1 (cf. "zero-init gamma"). */
    private static final double RESIDUAL_END_SCALE = 0.25;

    /** Shrinks classifier weights so logits stay O(1): see the FC_WEIGHT case. */
    private static final double FC_GAIN = 0.2;

    private final long seed;

    private SyntheticWeights(long seed) {
        this.seed = seed;
    }

    public static SyntheticWeights seeded(long seed) {
        return new SyntheticWeights(seed);
    }

    @Override
    public float[] values(String name, ParamRole role, long[] dims, int fanIn) {
        long count = 1;
        for (long d : dims) {
            count = Math.multiplyExact(count, d);
        }
        float[] v = new float[Math.toIntExact(count)];
        SplittableRandom random = new SplittableRandom(mix(seed, name));
        switch (role) {
            // Uniform He (Kaiming) init: Var = 2 / fanIn preserves activation variance through ReLU.
            case CONV_WEIGHT -> fillUniform(v, random, 0, Math.sqrt(6.0 / fanIn));
            // Without trained batch-norm statistics the pooled features of the ResNet-50 trunk have an
            // RMS near 5 (measured on N(0,1) images), so Var = 1 / fanIn would give logits with std 5
            // and a near one-hot softmax; the gain brings the logit std to about 1.
            case FC_WEIGHT -> fillUniform(v, random, 0, FC_GAIN * Math.sqrt(3.0 / fanIn));
            case FC_BIAS -> fillUniform(v, random, 0, 0.01);
            case BN_SCALE -> fillUniform(v, random, 1.0, 0.1);
            case BN_SCALE_RESIDUAL_END -> fillUniform(v, random, RESIDUAL_END_SCALE, 0.1 * RESIDUAL_END_SCALE);
            case BN_BIAS -> fillUniform(v, random, 0, 0.05);
            case BN_MEAN -> fillUniform(v, random, 0, 0.1);
            case BN_VARIANCE -> fillUniform(v, random, 1.0, 0.2);
        }
        return v;
    }

    private static void fillUniform(float[] v, SplittableRandom random, double centre, double halfWidth) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (centre + halfWidth * (2 * random.nextDouble() - 1));
        }
    }

    /** A well-mixed per-parameter seed: String.hashCode alone collides too easily. */
    private static long mix(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (int i = 0; i < name.length(); i++) {
            h = (h ^ name.charAt(i)) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h;
    }
}
