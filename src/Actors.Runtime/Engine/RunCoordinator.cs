using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Engine;

/// <summary>
/// What every run's top actor shares (the parameter-server run and the gossip run): the choice of clock and network
/// for the run's mode, the virtual-time clock actor in simulation mode, a supervisor that turns a child's exception
/// into a failed run instead of a silent restart, and the run-failed path.
/// </summary>
public abstract class RunCoordinator : ReceiveActor
{
    private readonly string _stalledWhat;

    /// <param name="simulation">True in simulation mode: the run is driven by a virtual-time scheduler.</param>
    /// <param name="stalledWhat">Ends the error of a simulation that ran out of events, e.g. "no peer can make progress".</param>
    protected RunCoordinator(bool simulation, string stalledWhat)
    {
        _stalledWhat = stalledWhat;
        if (simulation) Scheduler = new SimulationScheduler();
        Receive<SimulationClock.Idle>(i =>
        {
            if (!Finished)
                Fail($"the simulation ran out of events at step {StepForErrors} (virtual time {i.Now.TotalSeconds:0.###} s): {_stalledWhat}");
        });
        Receive<RunFailed>(f => Fail(f.Reason));
    }

    /// <summary>The virtual-time scheduler, or null in realtime mode.</summary>
    protected SimulationScheduler? Scheduler { get; }

    /// <summary>The actor that releases virtual-time events (Nobody in realtime mode, or before <see cref="CreateTiming"/>).</summary>
    protected IActorRef ClockActor { get; private set; } = ActorRefs.Nobody;

    protected bool IsSimulation => Scheduler is not null;

    /// <summary>Events the simulation released (0 in realtime mode).</summary>
    protected long EventsReleased => Scheduler?.EventsReleased ?? 0;

    /// <summary>True once the training itself has finished (a later Idle is then expected, not a stall).</summary>
    protected abstract bool Finished { get; }

    /// <summary>"step S of N", for the stalled-simulation error.</summary>
    protected abstract string StepForErrors { get; }

    /// <summary>Ends the run with an error.</summary>
    protected abstract void OnFailed(RunFailedException error);

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        Self.Tell(new RunFailed($"{e.GetType().Name}: {e.Message}"));
        return Directive.Stop;
    });

    /// <summary>
    /// The run's clock and network: virtual time and a simulated network (plus the clock actor that releases its events)
    /// in simulation mode, the actor system's scheduler otherwise. Call once, from PreStart.
    /// </summary>
    protected (IClock Clock, INetwork Network) CreateTiming(NetworkModel model)
    {
        if (Scheduler is { } scheduler)
        {
            // Same single thread as the actors it drives: releasing an event is then a mailbox hand-off, not an OS thread wake-up.
            ClockActor = Context.ActorOf(Props.Create(() => new SimulationClock(scheduler, Self)).WithDispatcher("actors.tensor-dispatcher"), "clock");
            return (scheduler, new SimulatedNetwork(scheduler, model));
        }
        return (new RealtimeClock(Context.System.Scheduler), new RealtimeNetwork(Context.System.Scheduler, model.ShapesRealtimeLinks ? model : null));
    }

    /// <summary>Sends the run's first message: as the first event of virtual time in simulation mode, directly otherwise.</summary>
    protected void Start(IActorRef target, object message)
    {
        if (Scheduler is { } scheduler)
        {
            scheduler.At(TimeSpan.Zero, target, message, Self);
            ClockActor.Tell(new SimulationClock.Start());
        }
        else
        {
            target.Tell(message);
        }
    }

    /// <summary>Stops releasing virtual-time events.</summary>
    protected void HaltClock() => ClockActor.Tell(new SimulationClock.Halt());

    protected void Fail(string reason)
    {
        HaltClock();
        OnFailed(new RunFailedException(reason));
    }
}
