package io.inferencefleet.paddle.model.synthetic;

/** What a parameter is for, so a {@link WeightInitializer} can pick a suitable distribution. */
public enum ParamRole {
    CONV_WEIGHT,
    BN_SCALE,
    /** Scale of the batch norm that ends a residual branch; initialisers usually keep it small. */
    BN_SCALE_RESIDUAL_END,
    BN_BIAS,
    BN_MEAN,
    BN_VARIANCE,
    FC_WEIGHT,
    FC_BIAS
}
