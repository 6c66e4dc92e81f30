namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// One action of a deployment step, on one app (Marathon <c>DeploymentAction</c> in <c>DeploymentPlan.scala</c>).
/// The actions of a step run in parallel.
/// </summary>
/// <param name="App">The definition the action works with: the target definition, or the original one for a stop.</param>
public abstract record DeploymentAction(AppDefinition App)
{
    /// <summary>The app's canonical id (computed once: actions are never copied with another app).</summary>
    public PathId AppId { get; } = App.PathId.Canonicalize();

    /// <summary>Marathon's name of the action (<c>DeploymentAction.actionName</c>), e.g. <c>ScaleApplication</c>.</summary>
    public abstract string ActionName { get; }
}

/// <summary>
/// Registers a new app with no instances (Marathon <c>StartApplication(runSpec, 0)</c>, kept for compatibility: a later
/// step scales it).
/// </summary>
/// <param name="App">The new app's definition.</param>
/// <param name="ScaleTo">Always 0 in plans built by <see cref="DeploymentPlanner"/>.</param>
public sealed record StartApplication(AppDefinition App, int ScaleTo = 0) : DeploymentAction(App)
{
    /// <inheritdoc/>
    public override string ActionName => "StartApplication";
}

/// <summary>
/// Changes the instance count without touching the running instances' configuration (Marathon
/// <c>ScaleApplication</c>; carried out with <see cref="ScaleDownSelector.Propose"/>).
/// </summary>
/// <param name="App">The target definition.</param>
/// <param name="ScaleTo">The target instance count.</param>
/// <param name="ToKill">Ids of instances that must be among the killed ones (Marathon <c>sentencedToDeath</c>), if any.</param>
public sealed record ScaleApplication(AppDefinition App, int ScaleTo, IReadOnlyList<string>? ToKill = null) : DeploymentAction(App)
{
    /// <inheritdoc/>
    public override string ActionName => "ScaleApplication";
}

/// <summary>Replaces all instances by instances of the new definition, rolling (Marathon <c>RestartApplication</c>; see <see cref="RollingUpgrade"/>).</summary>
/// <param name="App">The target definition.</param>
public sealed record RestartApplication(AppDefinition App) : DeploymentAction(App)
{
    /// <inheritdoc/>
    public override string ActionName => "RestartApplication";
}

/// <summary>Kills all instances of a removed app and forgets it (Marathon <c>StopApplication</c>).</summary>
/// <param name="App">The original definition of the removed app.</param>
public sealed record StopApplication(AppDefinition App) : DeploymentAction(App)
{
    /// <inheritdoc/>
    public override string ActionName => "StopApplication";
}

/// <summary>
/// One step of a deployment plan: actions that may run in parallel. A step finishes when all its actions have
/// finished; the next step starts only then (Marathon <c>DeploymentStep</c>).
/// </summary>
/// <param name="Actions">The actions, ordered by app id.</param>
public sealed record DeploymentStep(IReadOnlyList<DeploymentAction> Actions);
