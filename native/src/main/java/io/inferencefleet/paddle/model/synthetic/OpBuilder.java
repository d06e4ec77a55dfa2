package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.proto.FrameworkProto.AttrType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;

/** Fluent construction of one {@link OpDesc}: slots and typed attributes. */
final class OpBuilder {
    private final OpDesc.Builder op;

    OpBuilder(String type) {
        op = OpDesc.newBuilder().setType(type);
    }

    OpBuilder in(String parameter, String argument) {
        op.addInputs(OpDesc.Var.newBuilder().setParameter(parameter).addArguments(argument));
        return this;
    }

    OpBuilder out(String parameter, String argument) {
        op.addOutputs(OpDesc.Var.newBuilder().setParameter(parameter).addArguments(argument));
        return this;
    }

    OpBuilder attr(String name, int value) {
        op.addAttrs(attr(name, AttrType.INT).setI(value));
        return this;
    }

    OpBuilder attr(String name, float value) {
        op.addAttrs(attr(name, AttrType.FLOAT).setF(value));
        return this;
    }

    OpBuilder attr(String name, String value) {
        op.addAttrs(attr(name, AttrType.STRING).setS(value));
        return this;
    }

    OpBuilder attr(String name, boolean value) {
        op.addAttrs(attr(name, AttrType.BOOLEAN).setB(value));
        return this;
    }

    OpBuilder attr(String name, int... values) {
        OpDesc.Attr.Builder a = attr(name, AttrType.INTS);
        for (int v : values) {
            a.addInts(v);
        }
        op.addAttrs(a);
        return this;
    }

    OpDesc build() {
        return op.build();
    }

    private static OpDesc.Attr.Builder attr(String name, AttrType type) {
        return OpDesc.Attr.newBuilder().setName(name).setType(type);
    }
}
