// The baseline: an express handler that parses the same JSON body and answers 202, with no
// validation and no Redis. Intake's figures are read as a ratio to this one, run alongside.
import express from 'express';

const app = express();
app.use(express.json({ limit: '4mb' }));
app.post('/v1/refreshes', (req, res) => {
  res.status(202).json({ id: 'x', accepted: Array.isArray(req.body?.paths) ? req.body.paths.length : 0 });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
