using Actors.Learning.Training;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Engine;

/// <summary>Evaluates model snapshots on the test set, off the training path, and reports to the coordinator.</summary>
public sealed class EvaluatorActor : ReceiveActor
{
    private readonly ModelEvaluator _evaluator;

    public EvaluatorActor(ModelEvaluator evaluator, IActorRef coordinator)
    {
        _evaluator = evaluator;
        Receive<EvaluateSnapshot>(s =>
        {
            using var parameters = s.Model.ToTensor();
            var (loss, accuracy) = _evaluator.Evaluate(parameters);
            coordinator.Tell(new EvaluationResult(s.Counters, loss, accuracy, s.Final, s.Extras));
        });
    }

    public static Props Props(ModelEvaluator evaluator, IActorRef coordinator) =>
        Akka.Actor.Props.Create(() => new EvaluatorActor(evaluator, coordinator));
}
