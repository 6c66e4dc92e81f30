using System.Text;
using DatacenterOs.Cli;

Console.OutputEncoding = Encoding.UTF8;
return await DcosCli.RunAsync(args, CliContext.FromProcess());
