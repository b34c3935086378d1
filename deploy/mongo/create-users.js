// One MongoDB user per mignet service, in the admin database, with readWrite on its own
// database (<MIGNET_DB_PREFIX>_<service>) and nothing else: no service can read another's.
// Passwords come from the environment (<SERVICE>_MONGO_PASSWORD); run it as the root user.
//
// Safe to run again: an existing user gets its password and roles set anew (updateUser).
// docker-compose.yml mounts it into /docker-entrypoint-initdb.d (run once, on an empty data
// volume); deploy/compose.cluster.yml's mongo-init runs it after rs.initiate, on every `up`.
// make run does the same for SecantusDB in runtime/mignet_runtime/local_mongo.py.
const prefix = process.env.MIGNET_DB_PREFIX || "mignet";
const services = ["registry", "reviews", "notifier"];
const admin = db.getSiblingDB("admin");
for (const service of services) {
  const variable = `${service.toUpperCase()}_MONGO_PASSWORD`;
  const pwd = process.env[variable];
  if (!pwd) {
    throw new Error(`${variable} is not set: every service needs a MongoDB password`);
  }
  const database = `${prefix}_${service}`;
  const roles = [{ role: "readWrite", db: database }];
  if (admin.getUser(service)) {
    admin.updateUser(service, { pwd: pwd, roles: roles });
    print(`user ${service}: readWrite on ${database} (updated)`);
  } else {
    admin.createUser({ user: service, pwd: pwd, roles: roles });
    print(`user ${service}: readWrite on ${database} (created)`);
  }
}
