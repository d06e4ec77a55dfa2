package io.inferencefleet.ops.cli;

import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ModelInfo;
import io.inferencefleet.paddle.model.ModelReader;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.model.TensorSpec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fleet model}: generate the built-in models, inspect and validate a model directory. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Generate the built-in models; inspect and validate a model directory.",
        subcommands = {ModelCommand.Generate.class, ModelCommand.Inspect.class})
final class ModelCommand {

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Write a built-in model (inference.pdmodel, inference.pdiparams, inference.yml).",
                "Weights are synthetic (seeded He initialisation): predictions are not meaningful.",
                "For real predictions use a PaddleClas export directory instead."})
    static final class Generate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "One of: ${COMPLETION-CANDIDATES}")
        BuiltinModel name;

        @Option(names = "--dir", paramLabel = "DIR", description = "Output directory (default: models/<NAME>).")
        Path dir;

        @Option(names = "--seed", defaultValue = "42", description = "Weight seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Override
        public Integer call() throws Exception {
            Path target = dir != null ? dir : Path.of("models", name.id);
            Files.createDirectories(target);
            long start = System.nanoTime();
            ModelFiles files = BuiltinModels.generate(name.id, target, seed);
            ModelInfo info = ModelReader.read(files.modelFile());
            spec.commandLine().getOut().printf("generated %s (seed %d) in %d ms: %s, %,d parameters%n",
                    name.id, seed, (System.nanoTime() - start) / 1_000_000, target, info.parameterCount());
            return 0;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print inputs, outputs, ops and parameters of a model, validating both files.")
    static final class Inspect implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "Model directory (PaddleClas export or generated).")
        Path dir;

        @Override
        public Integer call() {
            ModelFiles files = ModelFiles.inDirectory(dir);
            ModelInfo info = ModelReader.read(files.modelFile());
            ParamsFile.validate(files.paramsFile(), info);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("model    %s%nparams   %s%n", files.modelFile(), files.paramsFile());
            files.inferenceConfig().ifPresent(yml -> out.printf("config   %s%n", yml));
            for (TensorSpec feed : info.feeds()) {
                out.printf("input    %s%n", feed);
            }
            for (TensorSpec fetch : info.fetches()) {
                out.printf("output   %s%n", fetch);
            }
            out.printf("ops      %d:", info.opTypes().size());
            for (Map.Entry<String, Integer> op : info.opCounts().entrySet()) {
                out.printf(" %s=%d", op.getKey(), op.getValue());
            }
            out.printf("%nparams   %,d parameters in %d tensors (%,d elements stored incl. batch-norm statistics)%n",
                    info.parameterCount(), info.parameters().size(), info.persistableElementCount());
            out.println("valid    yes (program parsed and checked, params file matches it)");
            return 0;
        }
    }

    /** The generator names, as a type so that picocli validates them and lists them in help. */
    enum BuiltinModel {
        tiny(BuiltinModels.TINY),
        resnet50(BuiltinModels.RESNET50);

        final String id;

        BuiltinModel(String id) {
            this.id = id;
        }
    }
}
