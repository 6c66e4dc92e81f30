using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class GraphTests
{
    private static JobGraph Diamond() => JobGraph.Create(
    [
        Dependent("D", "B", "C"),
        Dependent("C", "A"),
        Dependent("B", "A"),
        Scheduled("A", "@hourly"),
        Scheduled("Z", "@daily"),
    ]);

    [Fact]
    public void Parents_children_order_and_reachability()
    {
        var g = Diamond();

        Assert.Equal(["A", "B", "C", "D", "Z"], g.TopologicalOrder);
        Assert.Equal(["B", "C"], g.ParentsOf("D"));
        Assert.Equal(["B", "C"], g.ChildrenOf("A"));
        Assert.Equal(["B", "C", "D"], g.Descendants("A"));
        Assert.Equal(["A", "B", "C"], g.Ancestors("D"));
        Assert.Equal(["A", "Z"], g.Roots);
        Assert.Empty(g.ChildrenOf("unknown"));
    }

    [Fact]
    public void DOT_output_matches_Chronos_graph_dot()
    {
        Assert.Equal(
            """
            digraph G {
              1 [ label="A" ];
              2 [ label="B" ];
              3 [ label="C" ];
              4 [ label="D" ];
              5 [ label="Z" ];
              1 -> 2;
              1 -> 3;
              2 -> 4;
              3 -> 4;
            }

            """.ReplaceLineEndings("\n"),
            Diamond().ToDot());
    }

    [Fact]
    public void Empty_graph_DOT()
    {
        Assert.Equal("digraph G {\n}\n", JobGraph.Empty.ToDot());
    }

    [Fact]
    public void TryCreate_reports_unknown_parents_cycles_and_duplicates()
    {
        var result = JobGraph.TryCreate([Dependent("x", "y"), Dependent("y", "x"), Dependent("z", "nobody"), Scheduled("x", "@daily")]);

        Assert.False(result.IsValid);
        Assert.Equal(
            ["Job 'x' is defined more than once", "Parent job 'nobody' of job 'z' does not exist", "Dependency cycle: x -> y -> x"],
            result.Errors.Select(e => e.Message).ToList());
    }

    [Fact]
    public void FindCycle_returns_a_closed_path_or_null()
    {
        Assert.Equal(["a", "b", "c", "a"], JobGraph.FindCycle([Dependent("a", "c"), Dependent("b", "a"), Dependent("c", "b")]));
        Assert.Null(JobGraph.FindCycle([Scheduled("a", "@daily"), Dependent("b", "a")]));
    }

    [Fact]
    public void WithJob_is_an_upsert_that_rejects_cycles()
    {
        var g = Diamond();

        Assert.True(g.WithJob(Dependent("E", "D")).IsValid);
        var cyclic = g.WithJob(Dependent("B", "D"));
        Assert.Equal(["Dependency cycle: B -> D -> B"], cyclic.Errors.Select(e => e.Message).ToList());
    }

    [Fact]
    public void Replacing_a_job_with_the_same_parents_keeps_the_edges_and_order_and_swaps_the_definition()
    {
        var g = Diamond();
        var updated = g["D"] with { Command = "echo changed", SuccessCount = 7, Parents = ["C", "B", "C"] };

        var result = g.WithJob(updated);

        Assert.True(result.IsValid);
        var h = result.Graph!;
        Assert.Equal("echo changed", h["D"].Command);
        Assert.Equal(7, h["D"].SuccessCount);
        Assert.Equal(g.TopologicalOrder, h.TopologicalOrder);
        Assert.Equal(g.ParentsOf("D"), h.ParentsOf("D"));
        Assert.Equal(g.ChildrenOf("B"), h.ChildrenOf("B"));
        Assert.Equal(g.PositionOf("D"), h.PositionOf("D"));
        Assert.Equal("echo D", g["D"].Command);

        // A change of parents still goes through validation.
        Assert.False(h.WithJob(h["A"] with { Parents = ["D"], Schedule = null }).IsValid);
    }

    [Fact]
    public void Removing_a_dependent_job_reparents_its_children()
    {
        var removal = Diamond().WithoutJob("B");

        Assert.Equal(["C", "A"], removal.UpdatedChildren.Single(j => j.Name == "D").Parents);
        Assert.Equal(["A", "C"], removal.Graph.ParentsOf("D"));
        Assert.False(removal.Graph.Contains("B"));
    }

    [Fact]
    public void Removing_a_scheduled_job_turns_its_only_children_into_scheduled_jobs()
    {
        var g = JobGraph.Create([Scheduled("root", "R/2026-01-01T00:00:00Z/P1D", "Europe/Berlin"), Dependent("only", "root"), Dependent("both", "root", "other"), Scheduled("other", "@daily")]);

        var removal = g.WithoutJob("root");

        var only = removal.Graph["only"];
        Assert.Null(only.Parents);
        Assert.Equal("R/2026-01-01T00:00:00Z/P1D", only.Schedule);
        Assert.Equal("Europe/Berlin", only.ScheduleTimeZone);
        Assert.Equal(["other"], removal.Graph["both"].Parents);
    }
}
