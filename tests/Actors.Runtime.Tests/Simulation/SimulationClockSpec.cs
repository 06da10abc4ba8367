using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace Actors.Runtime.Tests.Simulation;

public class SimulationClockSpec : TestKit
{
    [Fact]
    public void Releases_events_in_time_then_sequence_order_one_at_a_time()
    {
        var scheduler = new SimulationScheduler();
        var target = CreateTestProbe();
        var watcher = CreateTestProbe();
        scheduler.At(TimeSpan.FromMilliseconds(5), target.Ref, "c", ActorRefs.Nobody);
        scheduler.At(TimeSpan.FromMilliseconds(1), target.Ref, "a", ActorRefs.Nobody);
        scheduler.At(TimeSpan.FromMilliseconds(5), target.Ref, "d", ActorRefs.Nobody); // same time as c: after it
        scheduler.At(TimeSpan.FromMilliseconds(2), target.Ref, "b", ActorRefs.Nobody);
        var clock = Sys.ActorOf(Props.Create(() => new SimulationClock(scheduler, watcher.Ref)));
        clock.Tell(new SimulationClock.Start());

        foreach (var expected in new[] { "a", "b", "c", "d" })
        {
            var d = target.ExpectMsg<Delivery>();
            Assert.Equal(expected, d.Message);
            target.ExpectNoMsg(TimeSpan.FromMilliseconds(50)); // nothing else until this one is acknowledged
            if (expected == "b")
            {
                // a handler schedules a follow-up before acking: it is ordered by virtual time like the rest
                Assert.Equal(TimeSpan.FromMilliseconds(2), scheduler.Now);
                scheduler.After(TimeSpan.FromMilliseconds(1), target.Ref, "b+1", ActorRefs.Nobody);
                clock.Tell(SimulationClock.Done.Instance, target.Ref);
                Assert.Equal("b+1", target.ExpectMsg<Delivery>().Message);
            }
            clock.Tell(SimulationClock.Done.Instance, target.Ref);
        }
        var idle = watcher.ExpectMsg<SimulationClock.Idle>();
        Assert.Equal(5, idle.EventsReleased);
        Assert.Equal(TimeSpan.FromMilliseconds(5), idle.Now);
    }
}
