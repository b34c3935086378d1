// Logs this mongosh session in as root from the environment, so that the password never appears on a
// command line: docker runs a container's processes on the host, where `ps` shows their arguments.
// Run it before another script: mongosh --quiet --host mongo /deploy/mongo/login.js <script.js>
const user = process.env.MONGO_ROOT_USERNAME || process.env.MONGO_INITDB_ROOT_USERNAME;
const pwd = process.env.MONGO_ROOT_PASSWORD || process.env.MONGO_INITDB_ROOT_PASSWORD;
if (!user || !pwd) throw new Error("login.js: MONGO_ROOT_USERNAME and MONGO_ROOT_PASSWORD must be set");
db.getSiblingDB("admin").auth(user, pwd);
