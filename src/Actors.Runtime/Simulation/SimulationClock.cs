using Akka.Actor;

namespace Actors.Runtime.Simulation;

/// <summary>
/// Virtual time. A priority queue of (time, sequence) events, released one at a time: the next event goes out only
/// when the receiver of the previous one reports it has finished (and so has scheduled all its follow-ups).
/// That makes a run a pure function of (experiment, seed) while each handler still uses all cores for its tensors.
/// </summary>
public sealed class SimulationScheduler : IClock
{
    private readonly PriorityQueue<Event, (long Ticks, long Seq)> _queue = new();
    private readonly Lock _gate = new();
    private long _seq;
    private long _nowTicks;

    public readonly record struct Event(long Ticks, IActorRef Target, object Message, IActorRef Sender);

    public TimeSpan Now => TimeSpan.FromTicks(Interlocked.Read(ref _nowTicks));

    public long EventsReleased { get; private set; }

    public int Pending
    {
        get
        {
            lock (_gate) return _queue.Count;
        }
    }

    public void After(TimeSpan delay, IActorRef target, object message, IActorRef sender) =>
        At(Now + (delay < TimeSpan.Zero ? TimeSpan.Zero : delay), target, message, sender);

    public void At(TimeSpan time, IActorRef target, object message, IActorRef sender)
    {
        lock (_gate) _queue.Enqueue(new Event(time.Ticks, target, message, sender), (time.Ticks, _seq++));
    }

    /// <summary>Takes the next event and advances virtual time to it; false when nothing is left.</summary>
    public bool TryNext(out Event next)
    {
        lock (_gate)
        {
            if (!_queue.TryDequeue(out next, out _)) return false;
            Interlocked.Exchange(ref _nowTicks, next.Ticks);
            EventsReleased++;
            return true;
        }
    }

    /// <summary>Drops every pending event (the run is over).</summary>
    public void Clear()
    {
        lock (_gate) _queue.Clear();
    }
}

/// <summary>Drives a <see cref="SimulationScheduler"/>: releases an event, waits for <see cref="Done"/>, releases the next.</summary>
public sealed class SimulationClock : ReceiveActor
{
    /// <summary>Start releasing events.</summary>
    public sealed record Start;

    /// <summary>The receiver of the last released event has finished handling it.</summary>
    public sealed record Done
    {
        public static readonly Done Instance = new();
    }

    /// <summary>Sent to the watcher when the queue ran empty (the run is finished or stalled).</summary>
    public sealed record Idle(long EventsReleased, TimeSpan Now);

    /// <summary>Stop releasing events.</summary>
    public sealed record Halt;

    private readonly SimulationScheduler _scheduler;
    private readonly IActorRef _watcher;
    private bool _halted;

    public SimulationClock(SimulationScheduler scheduler, IActorRef watcher)
    {
        _scheduler = scheduler;
        _watcher = watcher;
        Receive<Start>(_ => Release());
        Receive<Done>(_ => Release());
        Receive<Halt>(_ =>
        {
            _halted = true;
            _scheduler.Clear();
        });
    }

    private void Release()
    {
        if (_halted) return;
        if (_scheduler.TryNext(out var e))
        {
            // The target acks to us (Self) through SimulatedActor; the original sender travels inside the envelope.
            e.Target.Tell(new Delivery(e.Message, e.Sender), Self);
        }
        else
        {
            _watcher.Tell(new Idle(_scheduler.EventsReleased, _scheduler.Now));
        }
    }
}

/// <summary>An event released by the simulation clock: the message and who sent it.</summary>
public sealed record Delivery(object Message, IActorRef OriginalSender);
