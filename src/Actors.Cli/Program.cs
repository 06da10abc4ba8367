return Actors.Cli.CliApp.Run(args);
