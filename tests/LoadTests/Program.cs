return await PgVideoChat.LoadTests.LoadRunner.MainAsync(args);
