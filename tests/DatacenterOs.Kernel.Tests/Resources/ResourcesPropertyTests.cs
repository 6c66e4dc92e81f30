using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Tests.ResourceModel;

/// <summary>Seeded random property tests of <see cref="Res"/> arithmetic and text form.</summary>
public sealed class ResourcesPropertyTests
{
    private const int Cases = 400;

    private static readonly string[] ScalarNames = ["cpus", "gpus", "mem", "disk", "custom"];
    private static readonly string?[] Roles = [null, "web", "eng", "eng/web", "ops"];

    [Fact]
    public void AddThenSubtract_GivesBackTheOriginal()
    {
        var random = new Random(42);
        for (var i = 0; i < Cases; i++)
        {
            // Ranges and sets of a and b are disjoint, so subtracting b removes exactly what it added.
            var a = RandomResources(random, side: 0);
            var b = RandomResources(random, side: 1);

            var sum = a + b;

            Assert.True(sum - b == a, $"case {i}: ({a}) + ({b}) - ({b}) = {sum - b}");
            Assert.True(sum - a == b, $"case {i}: ({a}) + ({b}) - ({a}) = {sum - a}");
        }
    }

    [Fact]
    public void Sum_ContainsBothOperands()
    {
        var random = new Random(42);
        for (var i = 0; i < Cases; i++)
        {
            var a = RandomResources(random, side: null);
            var b = RandomResources(random, side: null);

            var sum = a + b;

            Assert.True(sum.Contains(a), $"case {i}: ({a}) + ({b}) does not contain ({a})");
            Assert.True(sum.Contains(b), $"case {i}: ({a}) + ({b}) does not contain ({b})");
            Assert.Equal(sum, b + a);
            Assert.True(a.Contains(sum - b), $"case {i}");
        }
    }

    [Fact]
    public void Parse_OfToString_GivesAnEqualValue()
    {
        var random = new Random(42);
        for (var i = 0; i < Cases; i++)
        {
            var a = RandomResources(random, side: null);

            var text = a.ToString();
            var again = Res.Parse(text);

            Assert.True(again == a, $"case {i}: '{text}' re-parsed as '{again}'");
            Assert.Equal(a.GetHashCode(), again.GetHashCode());
            Assert.Equal(text, again.ToString());
        }
    }

    [Fact]
    public void Addition_IsAssociativeAndHasAnIdentity()
    {
        var random = new Random(7);
        for (var i = 0; i < Cases; i++)
        {
            var a = RandomResources(random, side: null);
            var b = RandomResources(random, side: null);
            var c = RandomResources(random, side: null);

            Assert.Equal((a + b) + c, a + (b + c));
            Assert.Equal(a, a + Res.Empty);
            Assert.True((a - a).IsEmpty);
        }
    }

    [Fact]
    public void Filters_PartitionTheBag()
    {
        var random = new Random(11);
        for (var i = 0; i < Cases; i++)
        {
            var a = RandomResources(random, side: null);

            Assert.Equal(a, a.Unreserved() + a.Reserved());
            Assert.Equal(a, a.Scalars() + a.NonScalars());
            Assert.True(a.Contains(a.AllocatableTo("eng/web")));
            Assert.True(a.AllocatableTo("eng/web").Contains(a.AllocatableTo("eng")));
            Assert.Equal(a.Unreserved() + a.ReservedTo("eng") + a.ReservedTo("eng/web"), a.AllocatableTo("eng/web"));
            Assert.Equal(a.ToQuantities(), a.ToUnreserved().ToQuantities());
            Assert.Equal(a.Cpus, a.ToUnreserved().Cpus);
        }
    }

    [Fact]
    public void ToQuantities_IsAdditive()
    {
        var random = new Random(5);
        for (var i = 0; i < Cases; i++)
        {
            var a = RandomResources(random, side: null);
            var b = RandomResources(random, side: null);

            Assert.Equal(a.ToQuantities().Add(b.ToQuantities()), (a + b).ToQuantities());
            Assert.True((a + b).ToQuantities().Contains(a.ToQuantities()));
        }
    }

    /// <summary>
    /// Random resources. When <paramref name="side"/> is 0 or 1, ports and set items are drawn from that side's half of
    /// the values only, so bags built for different sides never share a port or a set item.
    /// </summary>
    private static Res RandomResources(Random random, int? side)
    {
        var entries = new List<Resource>();
        var n = random.Next(0, 8);
        for (var i = 0; i < n; i++)
        {
            var role = Roles[random.Next(Roles.Length)];
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    var name = ScalarNames[random.Next(ScalarNames.Length)];
                    var millis = random.Next(4) == 0 ? random.Next(0, 1000) : random.NextInt64(0, 100_000_000);
                    entries.Add(Resource.CreateScalarMillis(name, millis, role));
                    break;
                case 2:
                    entries.Add(Resource.CreateRanges("ports", RandomPorts(random, side), role));
                    break;
                default:
                    entries.Add(Resource.CreateSet("zones", RandomItems(random, side), role));
                    break;
            }
        }

        return Res.Of(entries);
    }

    private static ValueRanges RandomPorts(Random random, int? side)
    {
        var ranges = new List<ValueRange>();
        var count = random.Next(0, 4);
        for (var i = 0; i < count; i++)
        {
            // Blocks of 16 values; side 0 uses even blocks, side 1 odd blocks.
            var block = random.Next(0, 20);
            if (side is int s)
            {
                block = (block * 2) + s;
            }

            var begin = (block * 16L) + random.Next(0, 16);
            var end = Math.Min((block * 16L) + 15, begin + random.Next(0, 16));
            ranges.Add(new ValueRange(31000 + begin, 31000 + end));
        }

        return ValueRanges.Of(ranges);
    }

    private static string[] RandomItems(Random random, int? side)
    {
        var prefix = side switch
        {
            0 => "a",
            1 => "b",
            _ => random.Next(2) == 0 ? "a" : "b",
        };
        var count = random.Next(0, 4);
        var items = new string[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = prefix + random.Next(0, 6).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return items;
    }
}
