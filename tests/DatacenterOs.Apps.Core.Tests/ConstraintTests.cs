namespace DatacenterOs.Apps.Core.Tests;

public sealed class ConstraintTests
{
    private static AgentInfo Agent(string host, params (string Key, string Value)[] attributes) =>
        new(host, attributes.ToDictionary(a => a.Key, a => a.Value));

    private static PlacementDecision Place(string[] constraint, AgentInfo candidate, params AgentInfo[] placed) =>
        ConstraintEvaluator.Evaluate([Constraint.Parse(constraint)], candidate, placed);

    [Theory]
    [InlineData(new[] { "hostname", "UNIQUE" }, ConstraintOperator.Unique, null)]
    [InlineData(new[] { "rack", "group_by", "3" }, ConstraintOperator.GroupBy, "3")]
    [InlineData(new[] { "rack", "Cluster" }, ConstraintOperator.Cluster, null)]
    [InlineData(new[] { "rack", "MAX_PER", "2" }, ConstraintOperator.MaxPer, "2")]
    [InlineData(new[] { "@zone", "LIKE", "us-east-.*" }, ConstraintOperator.Like, "us-east-.*")]
    [InlineData(new[] { "os", "IS", "3.5" }, ConstraintOperator.Is, "3.5")]
    public void Parses_constraints_case_insensitively(string[] raw, ConstraintOperator op, string? value)
    {
        var constraint = Constraint.Parse(raw);

        Assert.Equal(raw[0], constraint.Field);
        Assert.Equal(op, constraint.Operator);
        Assert.Equal(value, constraint.Value);
    }

    [Fact]
    public void Prints_and_parses_the_colon_form()
    {
        var constraint = Constraint.Parse("rack:group_by:3");

        Assert.Equal("""["rack","GROUP_BY","3"]""", constraint.ToString());
        Assert.Equal(["rack", "GROUP_BY", "3"], constraint.ToRaw());
        Assert.Equal(3, constraint.IntValue);
        var error = Assert.Throws<FormatException>(() => Constraint.Parse("rack:MAX_PER"));
        Assert.Equal(Constraint.MaxPerValueMessage, error.Message);
    }

    [Fact]
    public void Unique_refuses_a_second_instance_with_the_same_value()
    {
        Assert.True(Place(["hostname", "UNIQUE"], Agent("a2"), Agent("a1")).IsAccepted);

        var refused = Place(["hostname", "UNIQUE"], Agent("a1"), Agent("a1"));

        Assert.False(refused.IsAccepted);
        Assert.Equal(ConstraintOperator.Unique, refused.RefusedBy!.Operator);
        Assert.Equal("""["hostname","UNIQUE"] not satisfied on a1: an instance already runs where hostname is "a1" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void Unique_on_an_attribute_counts_agents_by_attribute_value()
    {
        var placed = Agent("a1", ("rack", "r1"));

        Assert.False(Place(["rack", "UNIQUE"], Agent("a2", ("rack", "r1")), placed).IsAccepted);
        Assert.True(Place(["rack", "UNIQUE"], Agent("a3", ("rack", "r2")), placed).IsAccepted);
    }

    [Fact]
    public void Cluster_with_a_value_only_accepts_that_value()
    {
        Assert.True(Place(["rack", "CLUSTER", "r1"], Agent("a1", ("rack", "r1"))).IsAccepted);

        var refused = Place(["rack", "CLUSTER", "r1"], Agent("a2", ("rack", "r2")));

        Assert.Equal("""["rack","CLUSTER","r1"] not satisfied on a2: rack is "r2", but the app is clustered on "r1" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void Cluster_without_a_value_follows_the_first_placed_instance()
    {
        Assert.True(Place(["rack", "CLUSTER"], Agent("a1", ("rack", "r2"))).IsAccepted); // nothing placed yet
        Assert.True(Place(["rack", "CLUSTER"], Agent("a2", ("rack", "r1")), Agent("a1", ("rack", "r1"))).IsAccepted);

        var refused = Place(["rack", "CLUSTER"], Agent("a3", ("rack", "r2")), Agent("a1", ("rack", "r1")));

        Assert.Equal("""["rack","CLUSTER"] not satisfied on a3: rack is "r2", but the app's instances run where rack is "r1" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void Group_by_spreads_evenly_over_values()
    {
        var placed = new[] { Agent("a1", ("rack", "r1")), Agent("a2", ("rack", "r1")), Agent("a3", ("rack", "r2")) };

        Assert.True(Place(["rack", "GROUP_BY"], Agent("b1", ("rack", "r2")), placed).IsAccepted); // least used
        Assert.True(Place(["rack", "GROUP_BY"], Agent("b2", ("rack", "r3")), placed).IsAccepted); // new value

        var refused = Place(["rack", "GROUP_BY"], Agent("b3", ("rack", "r1")), placed);

        Assert.Equal("""["rack","GROUP_BY"] not satisfied on b3: rack "r1" already has 2 instances while the least used value has 1""", refused.Reason);
    }

    [Fact]
    public void Group_by_with_a_count_waits_for_enough_distinct_values()
    {
        var placed = new[] { Agent("a1", ("rack", "r1")) };

        var refused = Place(["rack", "GROUP_BY", "3"], Agent("b1", ("rack", "r1")), placed);

        Assert.False(refused.IsAccepted);
        Assert.Equal(
            """["rack","GROUP_BY","3"] not satisfied on b1: rack "r1" is already used while only 1 of at least 3 distinct values are; the next instance must go to a new value""",
            refused.Reason);
        Assert.True(Place(["rack", "GROUP_BY", "3"], Agent("b2", ("rack", "r2")), placed).IsAccepted);
    }

    [Fact]
    public void Like_requires_a_full_match()
    {
        Assert.True(Place(["hostname", "LIKE", "web-[0-9]+"], Agent("web-12")).IsAccepted);

        var refused = Place(["hostname", "LIKE", "web-[0-9]+"], Agent("web-12.example.com"));

        Assert.Equal("""["hostname","LIKE","web-[0-9]+"] not satisfied on web-12.example.com: hostname "web-12.example.com" does not match the regular expression "web-[0-9]+" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void Unlike_refuses_matches_and_accepts_agents_without_the_attribute()
    {
        Assert.True(Place(["rack", "UNLIKE", "r[12]"], Agent("a1", ("rack", "r3"))).IsAccepted);
        Assert.True(Place(["rack", "UNLIKE", "r[12]"], Agent("a2")).IsAccepted);

        var refused = Place(["rack", "UNLIKE", "r[12]"], Agent("a3", ("rack", "r1")));

        Assert.Equal("""["rack","UNLIKE","r[12]"] not satisfied on a3: rack "r1" matches the regular expression "r[12]" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void Max_per_caps_instances_per_value()
    {
        var placed = new[] { Agent("a1", ("rack", "r1")), Agent("a2", ("rack", "r1")) };

        Assert.True(Place(["rack", "MAX_PER", "3"], Agent("a3", ("rack", "r1")), placed).IsAccepted);

        var refused = Place(["rack", "MAX_PER", "2"], Agent("a3", ("rack", "r1")), placed);

        Assert.Equal("""["rack","MAX_PER","2"] not satisfied on a3: 2 instances already run where rack is "r1" (at most 2 allowed)""", refused.Reason);
    }

    [Fact]
    public void Is_matches_text_exactly_and_scalars_to_three_decimals()
    {
        Assert.True(Place(["os", "IS", "ubuntu"], Agent("a1", ("os", "ubuntu"))).IsAccepted);
        Assert.True(Place(["cores", "IS", "3.5"], Agent("a1", ("cores", "3.5000"))).IsAccepted);

        var refused = Place(["os", "IS", "ubuntu"], Agent("a2", ("os", "centos")));

        Assert.Equal("""["os","IS","ubuntu"] not satisfied on a2: os is "centos", not "ubuntu" """.TrimEnd(), refused.Reason);
    }

    [Fact]
    public void A_missing_attribute_fails_every_operator_but_unlike()
    {
        var refused = Place(["rack", "MAX_PER", "5"], Agent("a1"));

        Assert.Equal("""["rack","MAX_PER","5"] not satisfied on a1: the agent has no attribute "rack" """.TrimEnd(), refused.Reason);
        Assert.False(Place(["rack", "LIKE", ".*"], Agent("a1")).IsAccepted);
        Assert.False(Place(["rack", "GROUP_BY"], Agent("a1")).IsAccepted);
    }

    [Fact]
    public void Fault_domain_fields_are_supported()
    {
        var candidate = new AgentInfo("a1", Region: "eu", Zone: "eu-1a");

        Assert.True(ConstraintEvaluator.Evaluate([Constraint.Parse(["@zone", "LIKE", "eu-.*"])], candidate, []).IsAccepted);
        Assert.True(ConstraintEvaluator.Evaluate([Constraint.Parse(["@region", "IS", "eu"])], candidate, []).IsAccepted);
        Assert.True(ConstraintEvaluator.Evaluate([Constraint.Parse(["@hostname", "UNIQUE"])], candidate, []).IsAccepted);
    }

    [Fact]
    public void The_first_refusing_constraint_is_reported()
    {
        var app = TestApps.Normalized("""{"id":"/web","cmd":"x","constraints":[["hostname","LIKE","a.*"],["hostname","UNIQUE"],["rack","IS","r1"]]}""");

        var decision = ConstraintEvaluator.Evaluate(app, Agent("a1", ("rack", "r1")), [Agent("a1", ("rack", "r1"))]);

        Assert.False(decision.IsAccepted);
        Assert.Equal(ConstraintOperator.Unique, decision.RefusedBy!.Operator);
        Assert.True(ConstraintEvaluator.Evaluate(app, Agent("a2", ("rack", "r1")), [Agent("a1", ("rack", "r1"))]).IsAccepted);
        Assert.Same(PlacementDecision.Accepted, ConstraintEvaluator.Evaluate(app, Agent("a2", ("rack", "r1")), []));
    }

    [Fact]
    public void Evaluating_an_app_with_an_invalid_constraint_throws()
    {
        var app = TestApps.Parse("""{"id":"/web","cmd":"x","constraints":[["hostname","NOPE"]]}""");

        Assert.Throws<ArgumentException>(() => ConstraintEvaluator.Evaluate(app, Agent("a1"), []));
    }
}
