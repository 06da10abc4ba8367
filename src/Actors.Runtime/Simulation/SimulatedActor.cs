using Akka.Actor;

namespace Actors.Runtime.Simulation;

/// <summary>
/// Base for every actor that receives learning messages. Unwraps clock deliveries, runs the handler, and then
/// acknowledges to the clock, so the next event is released only after this one (and what it scheduled) is done.
/// Outside simulation, messages arrive unwrapped and nothing is acknowledged.
/// </summary>
public abstract class SimulatedActor : ReceiveActor
{
    private IActorRef? _originalSender;
    private IInboundAdapter? _inbound;
    private bool _inboundLooked;

    /// <summary>The sender of the current message (the original sender for clock deliveries).</summary>
    protected IActorRef MessageSender => _originalSender ?? Sender;

    protected override bool AroundReceive(Receive receive, object message)
    {
        // Cluster mode: a big learning message arrives as a side-channel handle; the transport claims the bytes first.
        if (!_inboundLooked)
        {
            _inbound = InboundHook.Get(Context.System).Adapter;
            _inboundLooked = true;
        }
        if (_inbound is not null && _inbound.TryIntercept(message, Self, Sender, Context.System)) return true;
        if (message is not Delivery d) return base.AroundReceive(receive, message);
        var clock = Sender;
        _originalSender = d.OriginalSender;
        try
        {
            return base.AroundReceive(receive, d.Message);
        }
        finally
        {
            _originalSender = null;
            clock.Tell(SimulationClock.Done.Instance, Self);
        }
    }
}
