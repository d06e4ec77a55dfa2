package io.inferencefleet.ops.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fleet}: the one command line of Inference Fleet. Started by the {@code ./fleet} launcher at
 * the repository root, which builds the project on first use and applies {@code jvm.options}.
 */
@Command(name = "fleet",
        mixinStandardHelpOptions = true,
        versionProvider = FleetCommand.Version.class,
        description = "Inference Fleet: Kafka image references in, Paddle predictions out, on CPU fleets.",
        subcommands = {DemoCommand.class, BrokerCommand.class, WorkerCommand.class, UpCommand.class, StatusCommand.class,
            SubmitCommand.class, ResultsCommand.class, ClassifyCommand.class, ModelCommand.class, CommandLine.HelpCommand.class})
public final class FleetCommand {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by {@link #main} and tests. */
    static CommandLine commandLine() {
        return new CommandLine(new FleetCommand())
                // Parsed, not yet run: the one moment a command can still choose where logs go.
                .setExecutionStrategy(parsed -> {
                    CommandLine.ParseResult sub = parsed.subcommand();
                    if (sub != null && sub.commandSpec().userObject() instanceof DemoCommand demo && !demo.verbose) {
                        LogDestination.toFile(DemoCommand.LOG_FILE);
                    }
                    return new CommandLine.RunLast().execute(parsed);
                })
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // Expected failures (bad model, bad path) are one line; bugs keep their trace.
                    if (e instanceof RuntimeException && !(e instanceof NullPointerException)) {
                        cmd.getErr().println(cmd.getColorScheme().errorText("fleet: " + e.getMessage()));
                        return 1;
                    }
                    throw e;
                });
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = FleetCommand.class.getPackage().getImplementationVersion();
            return new String[] {"fleet " + (version == null ? "(development build)" : version)};
        }
    }
}
