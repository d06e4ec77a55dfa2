package io.inferencefleet.paddle.model.synthetic;

/** Supplies the values of each parameter a {@link ProgramBuilder} declares. */
@FunctionalInterface
public interface WeightInitializer {
    /**
     * @param name   the parameter's variable name, unique in the program
     * @param role   what the parameter is for
     * @param dims   its static dims
     * @param fanIn  inputs feeding each output element (conv: in/groups x kh x kw; fc: in features);
     *               0 for batch-norm parameters
     * @return exactly as many values as {@code dims} hold
     */
    float[] values(String name, ParamRole role, long[] dims, int fanIn);
}
