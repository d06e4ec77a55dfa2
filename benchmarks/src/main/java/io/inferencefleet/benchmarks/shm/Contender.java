package io.inferencefleet.benchmarks.shm;

/**
 * One way of handing a tensor from a decoder thread to a predictor thread. The producer side
 * first {@link #prepare}s a tensor (preprocessing writes it, wherever the contender lets it write)
 * and later {@link #send}s it; the consumer side {@link #poll}s and ends with the tensor at a
 * native address Paddle could take.
 */
interface Contender extends AutoCloseable {
    /** Producer: get room and write the tensor (the "preprocess" write); false if back-pressured. */
    boolean prepare(long seq, long sourceAddress, int bytes);

    /** Address the last {@link #prepare} wrote the tensor to (what a zero-copy consumer must receive). */
    long preparedAddress();

    /** Producer: publish the prepared tensor. */
    void send();

    /** Consumer: deliver up to {@code max} tensors; returns how many. */
    int poll(Receiver receiver, int max);

    /** Copies of the tensor made after preprocessing wrote it, until Paddle can read it. */
    int copiesPerTensor();

    /** Names of extra threads whose CPU time belongs to this transport (e.g. housekeeping). */
    default String helperThreadPrefix() {
        return null;
    }

    @Override
    void close();

    @FunctionalInterface
    interface Receiver {
        void onTensor(long seq, long address, int bytes);
    }
}
