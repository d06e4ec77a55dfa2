package io.inferencefleet.paddle.model;

import io.inferencefleet.paddle.model.proto.FrameworkProto.AttrType;
import io.inferencefleet.paddle.model.proto.FrameworkProto.BlockDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.OpDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarDesc;
import io.inferencefleet.paddle.model.proto.FrameworkProto.VarType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks everything Paddle assumes about an inference program before it dereferences it, and
 * summarises the program as a {@link ModelInfo}. Each failure names the first problem found.
 */
final class ProgramValidator {
    /** Paddle's placeholder for an absent optional argument. */
    private static final String EMPTY_VAR_NAME = "@EMPTY@";

    private final ProgramDesc program;
    private final Path source;
    private final Map<String, VarDesc> vars = new LinkedHashMap<>();

    ProgramValidator(ProgramDesc program, Path source) {
        this.program = program;
        this.source = source;
    }

    ModelInfo validate() {
        if (program.getBlocksCount() == 0) {
            throw invalid("program has no blocks");
        }
        BlockDesc block = program.getBlocks(0);
        if (block.getIdx() != 0) {
            throw invalid("first block has idx " + block.getIdx() + ", expected 0");
        }
        for (VarDesc var : block.getVarsList()) {
            if (vars.putIfAbsent(var.getName(), var) != null) {
                throw invalid("variable '" + var.getName() + "' is declared twice in block 0");
            }
        }
        checkOpArguments(block);
        List<TensorSpec> feeds = ioTargets(block, "feed", VarType.Type.FEED_MINIBATCH);
        List<TensorSpec> fetches = ioTargets(block, "fetch", VarType.Type.FETCH_LIST);
        return new ModelInfo(source, program, feeds, fetches, parameters(), runningStatistics(block), vars);
    }

    private void checkOpArguments(BlockDesc block) {
        for (int i = 0; i < block.getOpsCount(); i++) {
            OpDesc op = block.getOps(i);
            checkArguments(op, i, op.getInputsList(), "input");
            checkArguments(op, i, op.getOutputsList(), "output");
        }
    }

    private void checkArguments(OpDesc op, int index, List<OpDesc.Var> slots, String kind) {
        for (OpDesc.Var slot : slots) {
            for (String arg : slot.getArgumentsList()) {
                if (!arg.equals(EMPTY_VAR_NAME) && !vars.containsKey(arg)) {
                    throw invalid("op #" + index + " (" + op.getType() + ") " + kind + " " + slot.getParameter()
                            + " names undeclared variable '" + arg + "'");
                }
            }
        }
    }

    /**
     * The tensors fed by {@code feed} ops (or fetched by {@code fetch} ops), ordered by {@code col}.
     * A feed op reads the FEED_MINIBATCH var through X and writes the target through Out; a fetch op
     * reads the target through X and writes the FETCH_LIST var through Out.
     */
    private List<TensorSpec> ioTargets(BlockDesc block, String opType, VarType.Type holderType) {
        boolean isFeed = opType.equals("feed");
        TreeMap<Integer, TensorSpec> byCol = new TreeMap<>();
        for (OpDesc op : block.getOpsList()) {
            if (!op.getType().equals(opType)) {
                continue;
            }
            int col = intAttr(op, "col");
            String holder = singleArgument(op, isFeed ? op.getInputsList() : op.getOutputsList(),
                    isFeed ? "X" : "Out");
            String target = singleArgument(op, isFeed ? op.getOutputsList() : op.getInputsList(),
                    isFeed ? "Out" : "X");
            VarType.Type actualHolderType = vars.get(holder).getType().getType();
            if (actualHolderType != holderType) {
                throw invalid(opType + " op (col " + col + ") uses variable '" + holder + "' of type "
                        + actualHolderType + ", expected " + holderType);
            }
            TensorSpec spec = tensorSpec(vars.get(target), opType + " target");
            if (isFeed && spec.rank() == 0) {
                throw invalid("feed target '" + target + "' declares no dims");
            }
            if (byCol.put(col, spec) != null) {
                throw invalid("two " + opType + " ops have col " + col);
            }
        }
        if (byCol.isEmpty()) {
            throw invalid("program has no '" + opType + "' op (not an inference model; export it with "
                    + "paddle.jit.save or save_inference_model)");
        }
        return new ArrayList<>(byCol.values());
    }

    private List<TensorSpec> parameters() {
        List<TensorSpec> params = new ArrayList<>();
        for (VarDesc var : vars.values()) {
            VarType.Type type = var.getType().getType();
            if (!var.getPersistable() || type == VarType.Type.FEED_MINIBATCH || type == VarType.Type.FETCH_LIST) {
                continue;
            }
            TensorSpec spec = tensorSpec(var, "persistable variable");
            if (!spec.isStatic()) {
                throw invalid("persistable variable '" + var.getName() + "' has dynamic dims " + spec);
            }
            if (DataTypes.elementBytes(spec.dataType()) < 0) {
                throw invalid("persistable variable '" + var.getName() + "' has non-tensor data type "
                        + spec.dataType());
            }
            params.add(spec);
        }
        params.sort(Comparator.comparing(TensorSpec::name));
        return params;
    }

    /** Mean and Variance inputs of batch_norm: persistable, but statistics rather than parameters. */
    private static Set<String> runningStatistics(BlockDesc block) {
        Set<String> names = new HashSet<>();
        for (OpDesc op : block.getOpsList()) {
            if (op.getType().equals("batch_norm")) {
                for (OpDesc.Var in : op.getInputsList()) {
                    if (in.getParameter().equals("Mean") || in.getParameter().equals("Variance")) {
                        names.addAll(in.getArgumentsList());
                    }
                }
            }
        }
        return names;
    }

    private TensorSpec tensorSpec(VarDesc var, String role) {
        VarType type = var.getType();
        if (type.getType() != VarType.Type.LOD_TENSOR || !type.hasLodTensor()) {
            throw invalid(role + " '" + var.getName() + "' has type " + type.getType() + ", expected LOD_TENSOR");
        }
        VarType.TensorDesc desc = type.getLodTensor().getTensor();
        long[] dims = desc.getDimsList().stream().mapToLong(Long::longValue).toArray();
        for (long d : dims) {
            if (d < -1) {
                throw invalid(role + " '" + var.getName() + "' has invalid dimension " + d);
            }
        }
        return new TensorSpec(var.getName(), dims, desc.getDataType());
    }

    private int intAttr(OpDesc op, String name) {
        for (OpDesc.Attr attr : op.getAttrsList()) {
            if (attr.getName().equals(name)) {
                if (attr.getType() != AttrType.INT) {
                    throw invalid(op.getType() + " op attribute '" + name + "' has type " + attr.getType()
                            + ", expected INT");
                }
                return attr.getI();
            }
        }
        throw invalid(op.getType() + " op has no INT attribute '" + name + "'");
    }

    private String singleArgument(OpDesc op, List<OpDesc.Var> slots, String parameter) {
        for (OpDesc.Var slot : slots) {
            if (slot.getParameter().equals(parameter)) {
                if (slot.getArgumentsCount() != 1) {
                    throw invalid(op.getType() + " op slot " + parameter + " has " + slot.getArgumentsCount()
                            + " arguments, expected 1");
                }
                return slot.getArguments(0);
            }
        }
        throw invalid(op.getType() + " op has no " + parameter + " argument");
    }

    private InvalidModelException invalid(String problem) {
        return new InvalidModelException(source, problem);
    }
}
