global using PgVideoChat.Hosting;
global using PgVideoChat.Hosting.ApplicationModel;
