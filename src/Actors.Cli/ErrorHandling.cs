using Actors.Learning.Data;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli;

/// <summary>Exit codes: 0 success, 2 bad input (one message naming key, value and valid choices), 1 failure.</summary>
public static class ErrorHandling
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;
            var (code, label) = Classify(inner);
            Console.Error.WriteLine(inner is OperationCanceledException
                ? "actors: cancelled (Ctrl-C or SIGTERM); what the run wrote so far (config, metrics rows) stays in its directory"
                : $"actors: {label}{inner.Message}");
            if (Environment.GetEnvironmentVariable("ACTORS_DEBUG") is "1" or "true") Console.Error.WriteLine(inner);
            return code;
        }
    }

    public static (int Code, string Label) Classify(Exception e) => e switch
    {
        ExperimentConfigException => (BadInput, "bad experiment: "),
        UserInputException => (BadInput, "bad input: "),
        DatasetFormatException => (BadInput, "bad dataset: "),
        CommandParseException or CommandRuntimeException => (BadInput, ""),
        RunFailedException => (Failure, "run failed: "),
        OperationCanceledException => (Failure, "cancelled: "),
        _ => (Failure, $"error ({e.GetType().Name}, set ACTORS_DEBUG=1 for the stack trace): "),
    };

    public static void Warn(string message) => AnsiConsole.Console.MarkupLineInterpolated($"[yellow]warning:[/] {message}");
}
