import { JourneyError } from '../errors.js';
import { countOf, type Diagnostic } from './diagnostic.js';
import { loadProject } from './load-project.js';
import type { Project } from './model.js';

/** Thrown when a command needs a valid project and the files have errors; carries them for printing. */
export class InvalidProjectError extends JourneyError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`the project has ${countOf(diagnostics, 'error').toLocaleString('en-US')} error(s)`, { hint: 'run journey validate and fix them first' });
  }
}

/** The project at a folder, or an InvalidProjectError listing what is wrong with it. */
export function openProject(root: string): Project {
  const { project, diagnostics } = loadProject(root);
  if (diagnostics.some((d) => d.severity === 'error')) throw new InvalidProjectError(diagnostics);
  return project;
}
