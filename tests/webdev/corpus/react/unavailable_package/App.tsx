import { motion } from 'framer-motion';
import { Sun } from 'lucide-react';

export default function App() {
  return (
    <motion.div className="p-8" animate={{ opacity: 1 }}>
      <Sun className="w-6 h-6" /> Weather
    </motion.div>
  );
}
