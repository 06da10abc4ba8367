using Actors.LoadTests.Transport;

// One verb per scenario: add one line for yours.
return args.FirstOrDefault() switch
{
    "transport" => await TransportLoadTest.RunAsync(args[1..]),
    TransportLoadTest.NodeVerb => await TransportLoadTest.RunNodeAsync(args[1..]),
    "transport-micro" => await TransportMicro.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: actors-loadtests <scenario> [options]");
    Console.Error.WriteLine("  transport   bulk tensor bytes between two nodes: raw TCP vs side channel vs naive Akka (--help)");
    return 2;
}
