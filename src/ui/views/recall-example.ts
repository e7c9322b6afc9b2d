/**
 * A recall passage for the classroom, in the form the bundled model learnt to answer (tools/train/data.py):
 * a fact, scripture (Genesis 13:1-9, from a chapter held out of training), then the fact's question. Step
 * it: with enough of the top-k the indexer keeps the number in view and the model says it; move the slider
 * down until the number drops out of the chosen set and the answer changes. The bundled model's answer on
 * the CPU reference and in llama.cpp is checked by src/model/reference/bundled-model.llama.test.ts.
 */
export const RECALL_ANSWER = ' 7421';
export const RECALL_QUESTION = 'The key of the blue door is';

const SCRIPTURE =
  'And Abram went up out of Egypt, he, and his wife, and all that he had, and Lot with him, into the south.\n' +
  'And Abram was very rich in cattle, in silver, and in gold.\n' +
  'And he went on his journeys from the south even to Bethel, unto the place where his tent had been at the beginning, between Bethel and Hai;\n' +
  'Unto the place of the altar, which he had made there at the first: and there Abram called on the name of the LORD.\n' +
  'And Lot also, which went with Abram, had flocks, and herds, and tents.\n' +
  'And the land was not able to bear them, that they might dwell together: for their substance was great, so that they could not dwell together.\n' +
  "And there was a strife between the herdmen of Abram's cattle and the herdmen of Lot's cattle: and the Canaanite and the Perizzite dwelled then in the land.\n" +
  'And Abram said unto Lot, Let there be no strife, I pray thee, between me and thee, and between my herdmen and thy herdmen; for we be brethren.\n' +
  'Is not the whole land before thee? separate thyself, I pray thee, from me: if thou wilt take the left hand, then I will go to the right; or if thou depart to the right hand, then I will go to the left.\n';

export const RECALL_EXAMPLE = `${RECALL_QUESTION}${RECALL_ANSWER}.\n${SCRIPTURE}${RECALL_QUESTION}`;
