package io.inferencefleet.paddle.reference;

import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;

import java.util.List;

/** Typed access to an op's attributes and single-argument slots, with Paddle's defaults. */
final class OpAttributes {
    private final OpDesc op;

    OpAttributes(OpDesc op) {
        this.op = op;
    }

    int getInt(String name, int fallback) {
        OpDesc.Attr a = find(name);
        return a == null ? fallback : (a.hasL() && !a.hasI() ? Math.toIntExact(a.getL()) : a.getI());
    }

    float getFloat(String name, float fallback) {
        OpDesc.Attr a = find(name);
        return a == null ? fallback : a.getF();
    }

    boolean getBool(String name, boolean fallback) {
        OpDesc.Attr a = find(name);
        return a == null ? fallback : a.getB();
    }

    String getString(String name, String fallback) {
        OpDesc.Attr a = find(name);
        return a == null ? fallback : a.getS();
    }

    int[] getInts(String name, int... fallback) {
        OpDesc.Attr a = find(name);
        return a == null ? fallback : a.getIntsList().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Paddle accepts 2 paddings {@code [h, w]} or 4 {@code [top, bottom, left, right]}. */
    int[] getPaddings4() {
        int[] p = getInts("paddings", 0, 0);
        return switch (p.length) {
            case 2 -> new int[] {p[0], p[0], p[1], p[1]};
            case 4 -> p;
            default -> throw new UnsupportedOperationException(op.getType() + ": paddings must have 2 or 4 values");
        };
    }

    String input(String parameter) {
        return single(op.getInputsList(), parameter, "input");
    }

    String output(String parameter) {
        return single(op.getOutputsList(), parameter, "output");
    }

    private String single(List<OpDesc.Var> slots, String parameter, String kind) {
        for (OpDesc.Var v : slots) {
            if (v.getParameter().equals(parameter) && v.getArgumentsCount() == 1) {
                return v.getArguments(0);
            }
        }
        throw new IllegalArgumentException(op.getType() + " op has no single " + kind + " " + parameter);
    }

    private OpDesc.Attr find(String name) {
        for (OpDesc.Attr a : op.getAttrsList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }
}
