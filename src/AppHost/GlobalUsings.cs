global using Microsoft.Extensions.Configuration;
global using PgVideoChat.Hosting;
global using PgVideoChat.Hosting.ApplicationModel;
