package io.inferencefleet.shm;

/**
 * The single writer of a {@link TensorQueue}, confined to the first thread that claims.
 *
 * <pre>{@code
 * TensorClaim claim = ...;                       // writer.newClaim(), once per thread
 * int status = writer.tryClaim(tensorBytes, claim);
 * if (status == ClaimStatus.BACK_PRESSURED) { idle.idle(); return; }  // normal: retry later
 * try {
 *     preprocessInto(claim.address(), claim.lengthBytes());  // the one and only write
 *     claim.requestKey(key).source(partition, offset).shape(3, 224, 224).dtype(DType.FLOAT32);
 *     claim.commit();
 * } finally {
 *     claim.abort();                             // no-op after commit; frees the slot on failure
 * }
 * }</pre>
 */
public interface TensorWriter {
    /** A claim object to reuse for every {@link #tryClaim}. */
    TensorClaim newClaim();

    /**
     * Claims room for a tensor of {@code tensorBytes}.
     *
     * @return {@link ClaimStatus#OK} (claim is open), {@link ClaimStatus#BACK_PRESSURED} or
     *     {@link ClaimStatus#CLOSED}; an oversize length or a still-open claim is a programming
     *     error ({@link IllegalArgumentException}/{@link IllegalStateException}).
     */
    int tryClaim(int tensorBytes, TensorClaim claim);
}
