package dev.moescope.toy.train;

/**
 * SplitMix64: a tiny, fast, statistically solid generator, one per instance so that an instance's data depend only
 * on its seed. Not thread-safe; each trainer thread owns the generator of the instance it is running.
 */
final class InstanceRandom {

    private long state;

    InstanceRandom(long seed) {
        this.state = seed;
    }

    long nextLong() {
        long z = (state += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) with 24 random bits, like {@code torch.rand} in float32. */
    float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }
}
